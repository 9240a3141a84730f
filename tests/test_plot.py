"""The plots are pictures a person reads at a glance: checked on the matplotlib figure's artists (which
lines, in which colour, how many points, what the x axis shows) and, for the written PNG, on its pixels."""
from __future__ import annotations

from pathlib import Path

import matplotlib.colors as mcolors
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest

from ainode_core.plot import (
    HISTORY_HORIZONS,
    MIN_HISTORY,
    column_colour,
    detection_figure,
    forecast_figure,
    plot_detection,
    plot_forecast,
)

BLUE = (0.122, 0.467, 0.706)  # C0, the first column
BAND = (0.824, 0.894, 0.941)  # C0 at alpha 0.2 over white
RED = (0.839, 0.153, 0.157)  # flagged points


def columns_with(png: Path, colour: tuple[float, float, float], tolerance: float = 0.03) -> np.ndarray:
    """The x pixel positions holding ``colour`` (one entry per matching pixel)."""
    import matplotlib.image

    image = matplotlib.image.imread(str(png))[..., :3]
    match = np.all(np.abs(image - np.array(colour)) < tolerance, axis=-1)
    return np.nonzero(match)[1]


def lines_by_label(axis) -> dict[str, object]:
    return {line.get_label(): line for line in axis.get_lines() if not line.get_label().startswith("_")}


def legend_texts(axis) -> list[str]:
    legend = axis.get_legend()
    return [text.get_text() for text in legend.get_texts()] if legend else []


def same_colour(a, b) -> bool:
    return mcolors.to_rgb(a) == mcolors.to_rgb(b)


# --- forecast ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("window, shown", [(None, max(HISTORY_HORIZONS * 12, MIN_HISTORY)), ("all", 2000), (300, 300)])
def test_forecast_plot_shows_recent_history_unless_asked_for_more(window, shown):
    history = pd.DataFrame({"y": np.sin(np.arange(2000) / 9.0)})
    forecast = pd.DataFrame({"y": np.zeros(12)}, index=pd.RangeIndex(2000, 2012))
    axis = forecast_figure(history, forecast, history_window=window).axes[0]
    lines = lines_by_label(axis)
    assert len(lines["y"].get_xdata()) == shown
    assert lines["y"].get_xdata()[-1] == 1999  # the most recent points, right before the forecast
    assert len(lines["y forecast"].get_xdata()) == 12


def test_forecast_plot_gives_each_column_one_colour_for_history_forecast_and_band():
    index = pd.date_range("2024-01-01", periods=100, freq="h")
    history = pd.DataFrame({"a": np.arange(100.0), "b": np.arange(100.0) * 2}, index=index)
    future = pd.date_range("2024-01-05 04:00", periods=6, freq="h")
    forecast = pd.DataFrame({"a": np.ones(6), "b": np.ones(6), "a_q0.1": np.zeros(6), "b_q0.1": np.zeros(6),
                             "a_q0.9": np.full(6, 2.0), "b_q0.9": np.full(6, 2.0)}, index=future)
    axis = forecast_figure(history, forecast).axes[0]
    lines = lines_by_label(axis)
    for position, name in enumerate(["a", "b"]):
        assert same_colour(lines[name].get_color(), column_colour(position))
        assert same_colour(lines[f"{name} forecast"].get_color(), column_colour(position))
        assert lines[f"{name} forecast"].get_linestyle() == "--"  # told apart from the history by its dash
    assert not same_colour(lines["a"].get_color(), lines["b"].get_color())
    bands = {band.get_label(): band for band in axis.collections}
    assert set(bands) == {"a 0.1–0.9", "b 0.1–0.9"}
    for position, name in enumerate(["a", "b"]):
        assert same_colour(bands[f"{name} 0.1–0.9"].get_facecolor()[0][:3], column_colour(position))


@pytest.mark.parametrize("index, year", [
    (pd.Index(1_700_000_000_000 + np.arange(60) * 3_600_000), 2023),  # epoch milliseconds
    (pd.Index(1_700_000_000 + np.arange(60) * 3_600), 2023),  # epoch seconds
    (pd.date_range("2021-06-01", periods=60, freq="D"), 2021),
    (pd.period_range("2015-01", periods=60, freq="M"), 2015),
], ids=["epoch-ms", "epoch-s", "datetimes", "periods"])
def test_forecast_plot_puts_dates_on_the_x_axis(index, year):
    history = pd.DataFrame({"y": np.arange(60.0)}, index=index)
    step = index[-1] - index[-2]
    future = (pd.period_range(index[-1] + 1, periods=5, freq="M") if isinstance(index, pd.PeriodIndex)
              else pd.Index([index[-1] + step * (i + 1) for i in range(5)]))
    axis = forecast_figure(history, pd.DataFrame({"y": np.zeros(5)}, index=future), history_window="all").axes[0]
    assert isinstance(axis.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    first = mdates.num2date(mdates.date2num(lines_by_label(axis)["y"].get_xdata()[0]))
    assert first.year == year


def test_forecast_plot_of_steps_keeps_numbers_on_the_x_axis():
    history = pd.DataFrame({"y": np.arange(50.0)})
    axis = forecast_figure(history, pd.DataFrame({"y": np.zeros(3)}, index=pd.RangeIndex(50, 53))).axes[0]
    assert not isinstance(axis.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)


def test_forecast_png_draws_history_then_forecast_then_band(tmp_path):
    history = pd.DataFrame({"y": np.sin(np.arange(60) / 5.0)}, index=pd.period_range("2020-01", periods=60, freq="M"))
    forecast = pd.DataFrame({"y": np.zeros(12), "y_q0.1": np.full(12, -1.0), "y_q0.9": np.full(12, 1.0)},
                            index=pd.period_range("2025-01", periods=12, freq="M"))
    png = plot_forecast(history, forecast, tmp_path / "f.png", title="t")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    line, band = columns_with(png, BLUE), columns_with(png, BAND)
    assert line.size and band.size
    assert np.median(band) > np.median(line)  # the band sits over the forecast's span, right of the history


def test_forecast_plot_without_a_point_column_draws_the_median():
    history = pd.DataFrame({"y": np.arange(20.0)})
    forecast = pd.DataFrame({"y_q0.1": np.full(5, 15.0), "y_q0.5": np.full(5, 20.0), "y_q0.9": np.full(5, 25.0)},
                            index=pd.RangeIndex(20, 25))
    axis = forecast_figure(history, forecast).axes[0]
    assert list(lines_by_label(axis)["y forecast"].get_ydata()) == [20.0] * 5
    single = forecast_figure(history, forecast[["y_q0.5"]]).axes[0]
    assert not single.collections  # one level: a line, no band


# --- detection -------------------------------------------------------------------------------------------


def test_detection_plot_marks_only_the_flagged_points():
    series = pd.DataFrame({"v": np.sin(np.arange(200) / 4.0)})
    flags = pd.DataFrame({"v": np.zeros(200)})
    flags.loc[[40, 170], "v"] = 1.0
    axis = detection_figure(series, flags).axes[0]
    (markers,) = axis.collections
    assert [x for x, _ in markers.get_offsets()] == [40, 170]
    assert same_colour(markers.get_facecolor()[0][:3], "tab:red")
    assert "v flagged (2)" in legend_texts(axis) and not axis.patches  # no state bands


def test_detection_plot_draws_hmm_states_as_bands_not_as_flags():
    # An HMM's two states: state 1 is a regime (a quarter of the rows), not 500 anomalies.
    states = np.zeros(2000)
    states[300:550] = states[1200:1450] = 1.0
    series = pd.DataFrame({"v": np.where(states == 1, 5.0, 0.0) + np.sin(np.arange(2000) / 7.0)})
    axis = detection_figure(series, pd.DataFrame({"v": states})).axes[0]
    assert not axis.collections  # nothing marked as flagged
    assert not any("flagged" in text for text in legend_texts(axis))
    assert len(axis.patches) == 5  # one band per run: 0, 1, 0, 1, 0
    colours = {mcolors.to_hex(patch.get_facecolor()) for patch in axis.patches}
    assert len(colours) == 2  # one colour per state
    assert {"state 0", "state 1"} <= set(legend_texts(axis))

    forced = detection_figure(series, pd.DataFrame({"v": states}), kind="flags").axes[0]
    assert len(forced.collections[0].get_offsets()) == 500  # the caller may still say they are flags


def test_detection_plot_gives_each_column_its_own_panel_and_colour(tmp_path):
    index = pd.Index(1_700_000_000_000 + np.arange(120) * 60_000)  # epoch ms, one a minute
    series = pd.DataFrame({"a": np.arange(120.0), "b": np.arange(120.0)}, index=index)
    labels = pd.DataFrame({"a": np.repeat([0.0, 1.0, 2.0], 40), "b": np.zeros(120)}, index=index)
    figure = detection_figure(series, labels)
    top, bottom = figure.axes
    assert same_colour(lines_by_label(top)["a"].get_color(), column_colour(0))
    assert same_colour(lines_by_label(bottom)["b"].get_color(), column_colour(1))
    assert len(top.patches) == 3 and not bottom.patches and not bottom.collections
    assert isinstance(bottom.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    png = plot_detection(series, labels, tmp_path / "d.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
