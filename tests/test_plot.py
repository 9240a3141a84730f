"""The PNGs are real pictures of the data: checked by their pixels (where each colour lands), not only by
their existence. Colours: history tab:blue, forecast tab:orange, band orange at 25 % on white, flags tab:red."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ainode_core.plot import plot_detection, plot_forecast

BLUE = (0.122, 0.467, 0.706)
ORANGE = (1.0, 0.498, 0.055)
BAND = (1.0, 0.875, 0.764)  # tab:orange at alpha 0.25 over white
RED = (0.839, 0.153, 0.157)


def columns_with(png: Path, colour: tuple[float, float, float], tolerance: float = 0.03) -> np.ndarray:
    """The x pixel positions holding ``colour`` (one entry per matching pixel)."""
    import matplotlib.image

    image = matplotlib.image.imread(str(png))[..., :3]
    match = np.all(np.abs(image - np.array(colour)) < tolerance, axis=-1)
    return np.nonzero(match)[1]


def test_forecast_plot_draws_history_then_forecast_then_band(tmp_path):
    history = pd.DataFrame({"y": np.sin(np.arange(60) / 5.0)}, index=pd.period_range("2020-01", periods=60, freq="M"))
    future = pd.period_range("2025-01", periods=12, freq="M")
    forecast = pd.DataFrame({"y": np.zeros(12), "y_q0.1": np.full(12, -1.0), "y_q0.9": np.full(12, 1.0)},
                            index=future)
    png = plot_forecast(history, forecast, tmp_path / "f.png", title="t")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    blue, orange, band = columns_with(png, BLUE), columns_with(png, ORANGE), columns_with(png, BAND)
    assert blue.size and orange.size and band.size
    assert orange.max() > blue.max() + 20  # the forecast continues to the right of the history
    assert np.median(band) > blue.max()  # the band sits over the forecast's time span (legend patch aside)


def test_forecast_plot_without_a_point_column_draws_the_median(tmp_path):
    history = pd.DataFrame({"y": np.arange(20.0)})
    forecast = pd.DataFrame({"y_q0.1": np.full(5, 15.0), "y_q0.5": np.full(5, 20.0), "y_q0.9": np.full(5, 25.0)},
                            index=pd.RangeIndex(20, 25))
    png = plot_forecast(history, forecast, tmp_path / "m.png")
    assert columns_with(png, ORANGE).max() > columns_with(png, BLUE).max()
    no_band = plot_forecast(history, forecast[["y_q0.5"]], tmp_path / "n.png")
    assert columns_with(no_band, BAND).size == 0  # one level: a line, no band


def test_detection_plot_marks_flags_and_shades_states(tmp_path):
    series = pd.DataFrame({"v": np.sin(np.arange(50) / 4.0)})
    flags = pd.DataFrame({"v": np.zeros(50)})
    quiet = plot_detection(series, flags, tmp_path / "quiet.png")
    assert columns_with(quiet, RED).size == 0  # nothing flagged, nothing red
    flags.loc[40, "v"] = 1.0
    flagged = plot_detection(series, flags, tmp_path / "flagged.png")
    red, right_end = columns_with(flagged, RED), columns_with(flagged, BLUE).max()
    assert red.size and 0.7 * right_end < red.max() < right_end  # the marker sits at point 40 of 50

    states = pd.DataFrame({"v": np.repeat([0.0, 1.0, 2.0], [20, 15, 15])})
    shaded = plot_detection(series, states, tmp_path / "states.png")
    # tab10's first three colours at alpha 0.2 over white, one span per state
    for colour in [(0.824, 0.894, 0.941), (1.0, 0.898, 0.812), (0.835, 0.937, 0.835)]:
        assert columns_with(shaded, colour, tolerance=0.02).size > 100
