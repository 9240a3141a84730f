"""read_frame: CSV, Parquet and TsFile datasets (written here by pandas / pyarrow / the tsfile package)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ainode_core.errors import InvalidInferenceConfigError, StatusCode
from ainode_core.ingress import read_frame
from ainode_core.ingress.files import read_series

T0 = 1_700_000_000_000  # epoch ms, as IoTDB stores time


def _write_tree_tsfile(path, series: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """A tree-model TsFile: ``{"root.plant.boiler.temperature": (times, values)}`` (DOUBLE series)."""
    from tsfile import Field, RowRecord, TimeseriesSchema, TSDataType, TsFileWriter

    writer = TsFileWriter(str(path))
    by_device: dict[str, list[str]] = {}
    for full_path in series:
        device, _, measurement = full_path.rpartition(".")
        by_device.setdefault(device, []).append(measurement)
        writer.register_timeseries(device, TimeseriesSchema(measurement, TSDataType.DOUBLE))
    for device, measurements in by_device.items():
        rows: dict[int, list] = {}
        for measurement in measurements:
            times, values = series[f"{device}.{measurement}"]
            for t, v in zip(times, values):
                rows.setdefault(int(t), []).append(Field(measurement, float(v), TSDataType.DOUBLE))
        for t in sorted(rows):
            writer.write_row_record(RowRecord(device, t, rows[t]))
    writer.close()


def _expect_error(match: str, *args, **kwargs) -> InvalidInferenceConfigError:
    with pytest.raises(InvalidInferenceConfigError, match=match) as info:
        read_frame(*args, **kwargs)
    assert info.value.code == StatusCode.INVALID_INFERENCE_CONFIG
    return info.value


# --- CSV --------------------------------------------------------------------------------------------------


def test_csv_epoch_ms_time_column_becomes_the_index_and_text_columns_are_dropped(tmp_path):
    path = tmp_path / "plant.csv"
    path.write_text("Time,temperature,pressure,status\n"
                    f"{T0 + 2000},3.5,7,ok\n{T0},1.5,,ok\n{T0 + 1000},2.5,6,bad\n")

    frame = read_frame(path)

    assert list(frame.columns) == ["temperature", "pressure"]
    assert list(frame.index) == [T0, T0 + 1000, T0 + 2000]  # sorted by time
    assert frame.dtypes.tolist() == [np.float64, np.float64]
    np.testing.assert_array_equal(frame["temperature"].to_numpy(), [1.5, 2.5, 3.5])
    assert np.isnan(frame["pressure"].iloc[0]) and frame["pressure"].iloc[1] == 6.0  # the gap stays a gap


def test_csv_time_range_is_half_open_in_epoch_ms(tmp_path):
    path = tmp_path / "x.csv"
    pd.DataFrame({"timestamp": T0 + np.arange(10) * 1000, "v": np.arange(10.0)}).to_csv(path, index=False)

    frame = read_frame(path, [T0 + 2000, T0 + 5000])

    assert list(frame.index) == [T0 + 2000, T0 + 3000, T0 + 4000]
    np.testing.assert_array_equal(frame["v"].to_numpy(), [2.0, 3.0, 4.0])


def test_csv_date_strings_are_parsed_and_filtered_by_epoch_ms(tmp_path):
    path = tmp_path / "daily.csv"
    dates = pd.date_range("2024-03-01", periods=6, freq="D")
    pd.DataFrame({"DATE": dates.strftime("%Y-%m-%d"), "load": np.arange(6.0)}).to_csv(path, index=False)
    start = int(pd.Timestamp("2024-03-03", tz="UTC").timestamp() * 1000)

    frame = read_frame(path, [start, start + 2 * 86_400_000])

    assert isinstance(frame.index, pd.DatetimeIndex)
    assert [d.day for d in frame.index] == [3, 4]
    np.testing.assert_array_equal(frame["load"].to_numpy(), [2.0, 3.0])


def test_csv_without_a_time_column_gets_a_range_index(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("a,b\n1,2\n3,4\n5,6\n")

    frame = read_frame(path)

    assert isinstance(frame.index, pd.RangeIndex)
    np.testing.assert_array_equal(frame.to_numpy(), [[1, 2], [3, 4], [5, 6]])
    _expect_error("no time column.*leave timeRange out", path, [0, 10])


def test_ambiguous_dates_take_the_reading_that_keeps_the_rows_in_order_and_say_so(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("date,v\n11/01/2024,1\n12/01/2024,2\n01/02/2024,3\n02/02/2024,4\n")

    series = read_series(path)

    assert [d.strftime("%Y-%m-%d") for d in series.frame.index] == ["2024-01-11", "2024-01-12", "2024-02-01",
                                                                     "2024-02-02"]
    (note,) = series.notes
    assert "read either month-first or day-first; read day-first" in note and "'11/01/2024'" in note


def test_unreadable_dates_name_the_row_and_value_without_pandas_advice(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("time,v\n2024-03-01,1\n2024-03-02,2\nyesterday,3\n")
    error = _expect_error(r"time column 'time' holds 'yesterday' at row 2, which is neither a date nor an epoch "
                          r"number; write dates as ISO 8601", path)
    assert "You might want" not in error.message and "format=" not in error.message


def test_epoch_seconds_become_milliseconds_and_a_date_column_of_any_name_is_the_time(tmp_path):
    seconds, named = tmp_path / "s.csv", tmp_path / "day.csv"
    pd.DataFrame({"time": [1_700_000_000, 1_700_000_060], "v": [1.0, 2.0]}).to_csv(seconds, index=False)
    pd.DataFrame({"day": ["2024-03-01", "2024-03-02"], "v": [1.0, 2.0]}).to_csv(named, index=False)

    assert list(read_frame(seconds).index) == [1_700_000_000_000, 1_700_000_060_000]
    series = read_series(named)
    assert isinstance(series.frame.index, pd.DatetimeIndex) and list(series.frame.columns) == ["v"]
    assert series.notes == ("using column 'day' (dates) as the time",)


def test_file_uri_is_accepted(tmp_path):
    path = tmp_path / "my data.csv"
    path.write_text("time,v\n0,1\n1,2\n")

    frame = read_frame(path.as_uri())  # file:///.../my%20data.csv

    np.testing.assert_array_equal(frame["v"].to_numpy(), [1.0, 2.0])


# --- Parquet ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".parquet", ".pq"])
def test_parquet_with_time_as_column(tmp_path, suffix):
    path = tmp_path / f"x{suffix}"
    pd.DataFrame({"time": T0 + np.arange(5) * 10, "v": np.arange(5, dtype=np.int32),
                  "w": np.linspace(0, 1, 5), "tag": list("abcde")}).to_parquet(path, index=False)

    frame = read_frame(path, [T0 + 10, T0 + 40])

    assert list(frame.columns) == ["v", "w"]
    assert list(frame.index) == [T0 + 10, T0 + 20, T0 + 30]
    np.testing.assert_array_equal(frame["v"].to_numpy(), [1.0, 2.0, 3.0])


def test_parquet_with_time_as_named_index(tmp_path):
    path = tmp_path / "indexed.parquet"
    pd.DataFrame({"v": [1.0, 2.0, 3.0]}, index=pd.Index([T0, T0 + 1, T0 + 2], name="Time")).to_parquet(path)

    frame = read_frame(path)

    assert list(frame.index) == [T0, T0 + 1, T0 + 2]
    assert list(frame.columns) == ["v"]


# --- TsFile -----------------------------------------------------------------------------------------------


def test_tree_tsfile_columns_are_full_series_paths_aligned_on_time(tmp_path):
    path = tmp_path / "plant.tsfile"
    times = T0 + np.arange(6) * 1000
    _write_tree_tsfile(path, {
        "root.plant.boiler.temperature": (times, np.arange(6.0)),
        "root.plant.boiler.pressure": (times[::2], np.array([10.0, 20.0, 30.0])),
        "root.plant.pump.speed": (times[3:], np.array([0.5, 0.6, 0.7])),
    })

    frame = read_frame(path)

    assert sorted(frame.columns) == ["root.plant.boiler.pressure", "root.plant.boiler.temperature",
                                     "root.plant.pump.speed"]
    assert list(frame.index) == list(times)
    np.testing.assert_array_equal(frame["root.plant.boiler.temperature"].to_numpy(), np.arange(6.0))
    np.testing.assert_array_equal(frame["root.plant.boiler.pressure"].to_numpy(),
                                  [10.0, np.nan, 20.0, np.nan, 30.0, np.nan])
    assert np.isnan(frame["root.plant.pump.speed"].iloc[:3]).all()


def test_tree_tsfile_time_range_excludes_the_end(tmp_path):
    path = tmp_path / "plant.tsfile"
    times = T0 + np.arange(6) * 1000
    _write_tree_tsfile(path, {"root.a.b.c": (times, np.arange(6.0))})

    frame = read_frame(f"file://{path}", [T0 + 1000, T0 + 3000])

    np.testing.assert_array_equal(frame["root.a.b.c"].to_numpy(), [1.0, 2.0])


def test_table_tsfile_single_device_keeps_plain_column_names(tmp_path):
    from tsfile import dataframe_to_tsfile

    path = tmp_path / "table.tsfile"
    dataframe_to_tsfile(pd.DataFrame({"time": T0 + np.arange(4), "temperature": np.arange(4.0),
                                      "load": np.arange(4, dtype=np.int32)}), str(path), table_name="boiler")

    frame = read_frame(path)

    assert sorted(frame.columns) == ["load", "temperature"]
    np.testing.assert_array_equal(frame["load"].to_numpy(), [0.0, 1.0, 2.0, 3.0])
    assert list(frame.index) == list(T0 + np.arange(4))


def test_table_tsfile_devices_become_separate_series(tmp_path):
    from tsfile import dataframe_to_tsfile

    path = tmp_path / "devices.tsfile"
    source = pd.DataFrame({"time": np.r_[T0 + np.arange(3), T0 + np.arange(3)],
                           "device": ["b1"] * 3 + ["b2"] * 3, "temperature": np.arange(6.0)})
    dataframe_to_tsfile(source, str(path), table_name="boiler", tag_column=["device"])

    frame = read_frame(path)

    assert sorted(frame.columns) == ["b1.temperature", "b2.temperature"]
    np.testing.assert_array_equal(frame["b1.temperature"].to_numpy(), [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(frame["b2.temperature"].to_numpy(), [3.0, 4.0, 5.0])


# --- errors -----------------------------------------------------------------------------------------------


def test_missing_file_names_the_path(tmp_path):
    error = _expect_error("does not exist", tmp_path / "nope.csv")
    assert "nope.csv" in error.message


def test_unknown_extension_lists_the_supported_ones(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_text("whatever")
    _expect_error(r"unsupported extension '\.xlsx'.*\.csv.*\.parquet.*\.tsfile", path)


def test_file_without_numeric_columns_lists_what_it_found(tmp_path):
    path = tmp_path / "text.csv"
    path.write_text("time,name,city\n1,a,x\n2,b,y\n")
    _expect_error("no numeric column.*name, city", path)


def test_empty_after_the_time_filter_reports_the_files_span(tmp_path):
    path = tmp_path / "x.csv"
    pd.DataFrame({"time": [T0, T0 + 500], "v": [1.0, 2.0]}).to_csv(path, index=False)
    _expect_error(rf"no rows in timeRange \[0, 100\).*{T0} \.\. {T0 + 500}", path, [0, 100])


@pytest.mark.parametrize("bad", [[1, 2, 3], [5, 5], [9, 1], ["a", "b"]])
def test_malformed_time_range_is_rejected(tmp_path, bad):
    path = tmp_path / "x.csv"
    path.write_text("time,v\n0,1\n")
    _expect_error("timeRange", path, bad)


def test_corrupt_parquet_names_the_file(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"not parquet at all")
    _expect_error("Cannot read dataset file .*broken.parquet", path)
