"""read_dataset: which data source serves a schema, plugin-registered sources, and the errors a user sees."""
from __future__ import annotations

import numpy as np
import pytest

from ainode_core import hookimpl
from ainode_core.config import Settings
from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.ingress import read_dataset
from ainode_core.plugins import PluginManager
from ainode_core.records import DataSource


@pytest.fixture
def plugins() -> PluginManager:
    return PluginManager(load_entry_points=False, strict=True)


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "plant.csv"
    path.write_text("time,temperature,pressure\n0,1.0,10\n1000,,11\n2000,3.0,12\n")
    return path


class MemorySource:
    """A third-party plugin offering a ``mem://`` data source."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    @hookimpl
    def ainode_register_data_sources(self):
        def read(schema_name, time_range, settings):
            self.calls.append((schema_name, time_range))
            yield "mem.series", np.arange(4.0)

        return [DataSource(name="memory", read=read, schemes=("mem",))]


def test_core_registers_the_three_builtin_sources(plugins):
    assert {"file", "iotdb.tree", "iotdb.table"} <= set(plugins.registry("data_sources"))


def test_file_uri_is_read_from_the_file_whatever_the_db_type(plugins, csv):
    series = read_dataset(plugins, Settings(), "iotdb.tree", [(csv.as_uri(), None)])

    names = [name for name, _ in series]
    assert names == ["temperature", "pressure"]
    temperature = dict(series)["temperature"]
    assert temperature.dtype == np.float64 and temperature.ndim == 1
    assert np.isnan(temperature[1]) and temperature[2] == 3.0  # the file's gap is kept


def test_an_existing_local_path_is_a_file_dataset(plugins, csv):
    series = dict(read_dataset(plugins, Settings(), "iotdb.table", [(str(csv), [1000, 3000])]))

    np.testing.assert_array_equal(series["pressure"], [11.0, 12.0])


def test_the_same_name_from_two_schemas_is_kept_twice_under_distinct_names(plugins, csv):
    series = read_dataset(plugins, Settings(), "iotdb.tree", [(str(csv), [0, 1000]), (str(csv), [1000, 3000])])

    names = [name for name, _ in series]
    assert names == ["temperature", "pressure", "temperature#2", "pressure#2"]
    np.testing.assert_array_equal(dict(series)["pressure#2"], [11.0, 12.0])


def test_a_plugin_source_is_found_by_scheme_and_by_db_type(plugins):
    plugin = MemorySource()
    plugins.add_plugin(plugin, "memory-plugin")
    try:
        by_scheme = read_dataset(plugins, Settings(), "iotdb.tree", [("mem://anything", [1, 2])])
        by_type = read_dataset(plugins, Settings(), "memory", [("some query", None)])
    finally:
        plugins.remove_plugin("memory-plugin")

    assert [name for name, _ in by_scheme] == ["mem.series"] == [name for name, _ in by_type]
    assert plugin.calls == [("mem://anything", [1, 2]), ("some query", None)]


def test_unknown_db_type_lists_the_known_sources(plugins):
    with pytest.raises(InvalidInferenceConfigError, match=r"Unknown dataset dbType 'influx'.*iotdb\.table.*iotdb\.tree"):
        read_dataset(plugins, Settings(), "influx", [("root.a.b", None)])


def test_unknown_scheme_lists_the_known_schemes(plugins):
    with pytest.raises(InvalidInferenceConfigError, match=r"No data source reads s3:// datasets.*file"):
        read_dataset(plugins, Settings(), "iotdb.tree", [("s3://bucket/x.csv", None)])


def test_no_schema_at_all_is_an_error(plugins):
    with pytest.raises(InvalidInferenceConfigError, match="No dataset given"):
        read_dataset(plugins, Settings(), "iotdb.tree", [])


def test_a_dataset_without_any_value_is_an_error(plugins, tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("time,v\n0,\n1,\n")

    with pytest.raises(InvalidInferenceConfigError, match="holds no numeric values"):
        read_dataset(plugins, Settings(), "iotdb.tree", [(str(path), None)])


def test_missing_file_error_reaches_the_caller(plugins, tmp_path):
    with pytest.raises(InvalidInferenceConfigError, match="does not exist"):
        read_dataset(plugins, Settings(), "iotdb.tree", [((tmp_path / "gone.csv").as_uri(), None)])
