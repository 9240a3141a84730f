"""Results as pictures (matplotlib, headless): a forecast with its history and quantile band, and a
detection with flagged points or state colouring. Both return the path of the PNG written."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

_QUANTILE = re.compile(r"^(?P<name>.+)_q(?P<level>[0-9.eE+-]+)$")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # headless: no display on a server or in CI
    import matplotlib.pyplot as plt

    return plt


def _x(index: pd.Index) -> Any:
    """Matplotlib cannot draw Periods; timestamps and plain numbers it can."""
    return index.to_timestamp() if isinstance(index, pd.PeriodIndex) else index


def quantile_columns(forecast: pd.DataFrame, name: str) -> dict[float, str]:
    """``{level: column}`` for the ``<name>_q<level>`` columns the client adds for quantile forecasts."""
    found = {}
    for column in map(str, forecast.columns):
        match = _QUANTILE.match(column)
        if match and match.group("name") == name:
            try:
                found[float(match.group("level"))] = column
            except ValueError:
                continue
    return dict(sorted(found.items()))


def _point_column(forecast: pd.DataFrame, name: str) -> str | None:
    """The line to draw as "the forecast": the point column, else the median, else the middle level."""
    if name in forecast.columns:
        return name
    levels = quantile_columns(forecast, name)
    if not levels:
        return None
    if 0.5 in levels:
        return levels[0.5]
    ordered = list(levels.values())
    return ordered[len(ordered) // 2]


def plot_forecast(history: pd.DataFrame, forecast: pd.DataFrame, path: Path | str, title: str = "") -> Path:
    """History (blue), forecast (orange) and, with two or more quantile levels, the band between the
    lowest and the highest level, for every history column that the forecast covers."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(10, 4))
    x_future = _x(forecast.index)
    for column in history.columns:
        name = str(column)
        axis.plot(_x(history.index), history[column].to_numpy(dtype=float), color="tab:blue",
                  label=f"{name} (history)")
        point = _point_column(forecast, name)
        if point is not None:
            axis.plot(x_future, forecast[point].to_numpy(dtype=float), color="tab:orange",
                      label=f"{name} (forecast)")
        levels = quantile_columns(forecast, name)
        if len(levels) >= 2:
            low, high = min(levels), max(levels)
            axis.fill_between(x_future, forecast[levels[low]].to_numpy(dtype=float),
                              forecast[levels[high]].to_numpy(dtype=float), color="tab:orange", alpha=0.25,
                              label=f"{name} {low:g}–{high:g} interval")
    return _finish(figure, axis, path, title)


def plot_detection(series: pd.DataFrame, labels: pd.DataFrame, path: Path | str, title: str = "") -> Path:
    """Each series as a line. 0/1 labels: flagged points as red markers. More than two distinct labels
    (a hidden-state sequence, e.g. gaussian_hmm): the background is coloured by state."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(10, 4))
    x = _x(series.index)
    for column in series.columns:
        name = str(column)
        values = series[column].to_numpy(dtype=float)
        axis.plot(x, values, color="tab:blue", label=name)
        flags = labels[name].to_numpy(dtype=float) if name in labels.columns else np.zeros(len(values))
        states = np.unique(flags[~np.isnan(flags)])
        if set(states.tolist()) <= {0.0, 1.0}:
            hit = flags == 1.0
            if hit.any():
                axis.scatter(np.asarray(x)[hit], values[hit], color="tab:red", zorder=3, s=25,
                             label=f"{name} flagged ({int(hit.sum())})")
        else:
            _shade_states(axis, np.asarray(x), flags, states, name)
    return _finish(figure, axis, path, title)


def _shade_states(axis: Any, x: np.ndarray, flags: np.ndarray, states: np.ndarray, name: str) -> None:
    import matplotlib

    colours = matplotlib.colormaps["tab10"]
    labelled: set[float] = set()
    start = 0
    for stop in range(1, len(flags) + 1):
        if stop < len(flags) and flags[stop] == flags[start]:
            continue
        state = flags[start]
        if not np.isnan(state):
            colour = colours(int(np.searchsorted(states, state)) % 10)
            right = x[stop] if stop < len(x) else x[-1]
            axis.axvspan(x[start], right, color=colour, alpha=0.2,
                         label=None if state in labelled else f"{name} state {state:g}")
            labelled.add(state)
        start = stop


def _finish(figure: Any, axis: Any, path: Path | str, title: str) -> Path:
    plt = _pyplot()
    axis.set_title(title)
    axis.legend(loc="upper left")
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
