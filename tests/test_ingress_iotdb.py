"""IoTDB tree / table readers and the iotdb.* data sources against a DataNode double on apache-iotdb's Thrift code."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from ainode_core.config import Settings
from ainode_core.errors import ConfigError, InvalidInferenceConfigError
from ainode_core.ingress import read_dataset
from ainode_core.ingress.iotdb_table import read_table_frame
from ainode_core.ingress.iotdb_tree import build_tree_query, read_tree_frame
from ainode_core.plugins import PluginManager

from tests.support.datanode import FakeDataNode, free_port

T0 = 1_700_000_000_000
TIMES = T0 + np.arange(8, dtype=np.int64) * 1000


@pytest.fixture(scope="module")
def datanode() -> FakeDataNode:
    devices = np.r_[TIMES, TIMES]
    return FakeDataNode(
        tree={
            "root.plant.boiler.temperature": (TIMES, np.arange(8.0), "DOUBLE"),
            "root.plant.boiler.pressure": (TIMES[::2], np.array([10, 20, 30, 40]), "INT64"),
            "root.plant.boiler.status": (TIMES, ["ok"] * 8, "TEXT"),
            "root.plant.pump.temperature": (TIMES[:4], np.array([1.5, 2.5, 3.5, 4.5]), "FLOAT"),
            "root.other.x": (TIMES, np.zeros(8), "DOUBLE"),
        },
        tables={
            "boiler": (
                pd.DataFrame({"time": devices, "device": ["b1"] * 8 + ["b2"] * 8,
                              "temperature": np.r_[np.arange(8.0), 100 + np.arange(7.0), np.nan],
                              "mode": ["auto"] * 16}),
                {"time": "TIMESTAMP", "device": "STRING", "temperature": "DOUBLE", "mode": "STRING"},
            ),
        },
        page_rows=3,  # several TsBlocks per result: the client must page with fetchResultsV2
    )


@pytest.fixture
def settings(datanode) -> Settings:
    return dataclasses.replace(Settings(), ain_cluster_ingress_port=datanode.port)


@pytest.fixture
def plugins() -> PluginManager:
    return PluginManager(load_entry_points=False, strict=True)


# --- tree model -------------------------------------------------------------------------------------------


def test_tree_pattern_reads_every_numeric_series_under_the_prefix(settings, datanode):
    frame = read_tree_frame(settings, "root.plant.boiler.**")

    assert datanode.statements[-1] == "select ** from root.plant.boiler"
    assert sorted(frame.columns) == ["root.plant.boiler.pressure", "root.plant.boiler.temperature"]  # TEXT dropped
    assert list(frame.index) == list(TIMES)
    np.testing.assert_array_equal(frame["root.plant.boiler.temperature"].to_numpy(), np.arange(8.0))
    np.testing.assert_array_equal(frame["root.plant.boiler.pressure"].to_numpy()[::2], [10, 20, 30, 40])


def test_tree_time_range_goes_into_the_query_and_is_half_open(settings, datanode):
    frame = read_tree_frame(settings, "root.plant.*.temperature", [int(TIMES[1]), int(TIMES[4])])

    assert datanode.statements[-1] == (
        f"select temperature from root.plant.* where time >= {TIMES[1]} and time < {TIMES[4]}")
    assert sorted(frame.columns) == ["root.plant.boiler.temperature", "root.plant.pump.temperature"]
    np.testing.assert_array_equal(frame["root.plant.boiler.temperature"].to_numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_allclose(frame["root.plant.pump.temperature"].to_numpy(), [2.5, 3.5, 4.5])


def test_tree_source_keeps_only_each_series_own_points(settings, plugins):
    series = dict(read_dataset(plugins, settings, "iotdb.tree", [("root.plant.boiler.**", None)]))

    assert sorted(series) == ["root.plant.boiler.pressure", "root.plant.boiler.temperature"]
    # pressure has 4 points; the other series' timestamps do not turn into NaN holes
    np.testing.assert_array_equal(series["root.plant.boiler.pressure"], [10.0, 20.0, 30.0, 40.0])
    assert series["root.plant.boiler.temperature"].dtype == np.float64


def test_tree_pattern_matching_nothing_names_the_pattern(settings):
    with pytest.raises(InvalidInferenceConfigError, match=r"'root\.plant\.nothing\.\*\*' matches no time series"):
        read_tree_frame(settings, "root.plant.nothing.**")


def test_tree_series_without_data_in_the_range_is_an_error(settings):
    with pytest.raises(InvalidInferenceConfigError, match=r"hold no data in timeRange \[0, 10\)"):
        read_tree_frame(settings, "root.plant.boiler.temperature", [0, 10])


def test_tree_pattern_with_only_text_series_is_an_error(settings):
    with pytest.raises(InvalidInferenceConfigError, match=r"only non-numeric series.*status \(TEXT\)"):
        read_tree_frame(settings, "root.plant.boiler.status")


@pytest.mark.parametrize("pattern", ["plant.boiler.x", "root", "select * from root.a", "root.a;drop", "root..x"])
def test_non_tree_paths_are_rejected_before_any_query(pattern):
    with pytest.raises(InvalidInferenceConfigError, match="not a tree path"):
        build_tree_query(pattern)


def test_backquoted_nodes_may_hold_dots():
    assert build_tree_query("root.sg.`d.1`.s") == "select s from root.sg.`d.1`"


# --- table model ------------------------------------------------------------------------------------------


def test_table_query_splits_devices_into_series(settings, datanode):
    frame = read_table_frame(settings, "select time, device, temperature from boiler")

    session = datanode.sessions[max(datanode.sessions)]
    assert session.dialect == "table"
    assert sorted(frame.columns) == ["b1.temperature", "b2.temperature"]
    assert list(frame.index) == list(TIMES)
    np.testing.assert_array_equal(frame["b1.temperature"].to_numpy(), np.arange(8.0))
    assert np.isnan(frame["b2.temperature"].iloc[-1])  # a null in a row stays NaN


def test_table_time_range_filters_rows(settings):
    frame = read_table_frame(settings, "select * from boiler", [int(TIMES[2]), int(TIMES[5])])

    assert sorted(frame.columns) == ["b1.temperature", "b2.temperature"]  # the constant 'mode' is no tag
    np.testing.assert_array_equal(frame["b2.temperature"].to_numpy(), [102.0, 103.0, 104.0])


def test_table_source_through_read_dataset(settings, plugins):
    series = dict(read_dataset(plugins, settings, "iotdb.table",
                               [("select time, device, temperature from boiler", None)]))

    assert sorted(series) == ["b1.temperature", "b2.temperature"]
    assert np.isnan(series["b2.temperature"][-1]) and len(series["b2.temperature"]) == 8


def test_unknown_table_passes_on_the_datanodes_message(settings):
    with pytest.raises(InvalidInferenceConfigError, match=r"select \* from nope.*Table 'nope' does not exist"):
        read_table_frame(settings, "select * from nope")


def test_table_query_without_numeric_columns_is_an_error(settings):
    with pytest.raises(InvalidInferenceConfigError, match=r"no numeric column.*device \(STRING\)"):
        read_table_frame(settings, "select time, device from boiler")


# --- connection problems ----------------------------------------------------------------------------------


@pytest.mark.parametrize("read", [
    lambda s: read_tree_frame(s, "root.plant.boiler.temperature"),
    lambda s: read_table_frame(s, "select * from boiler"),
], ids=["tree", "table"])
def test_unreachable_datanode_names_host_port_and_the_config_keys(settings, read):
    port = free_port()
    closed = dataclasses.replace(settings, ain_cluster_ingress_port=port)

    with pytest.raises(ConfigError) as info:
        read(closed)

    message = info.value.message
    assert f"127.0.0.1:{port}" in message
    assert "ain_cluster_ingress_address" in message and "ain_cluster_ingress_port" in message


def test_wrong_password_points_at_the_credential_keys(settings):
    wrong = dataclasses.replace(settings, ain_cluster_ingress_password="nope")

    with pytest.raises(ConfigError, match="refused the session.*ain_cluster_ingress_password"):
        read_tree_frame(wrong, "root.plant.boiler.temperature")


def test_sessions_are_closed_and_use_the_configured_zone(settings, datanode):
    before = set(datanode.closed_sessions)
    read_tree_frame(dataclasses.replace(settings, ain_cluster_ingress_time_zone="UTC+8"), "root.other.x")

    new_sessions = set(datanode.closed_sessions) - before
    assert len(new_sessions) == 1
    assert datanode.sessions[new_sessions.pop()].zone == "+08:00"
