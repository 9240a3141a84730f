"""Results as pictures a person reads at a glance (matplotlib, headless).

* A forecast: the recent history (by default the last :data:`HISTORY_HORIZONS` horizons, at least
  :data:`MIN_HISTORY` points, so the forecast is not a sliver at the right edge; ``history_window="all"`` or a
  number shows more), then the forecast, dashed, in the same colour: one colour per column. With two or more
  quantile levels the band between the lowest and the highest is shaded in that colour.
* A detection: one panel per column. 0/1 flags (an outlier detector such as ``stray``) mark only the flagged
  points; state labels (an HMM's hidden states) colour the background, one colour per state.
* The x axis shows dates when the time is datetimes, periods or epoch seconds/milliseconds.

``forecast_figure`` / ``detection_figure`` build the :class:`~matplotlib.figure.Figure` (tests read its
artists); ``plot_forecast`` / ``plot_detection`` write it as a PNG and return the path.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, Union

import numpy as np
import pandas as pd

from ainode_core.ingress.timecolumn import epoch_unit

HistoryWindow = Union[int, Literal["all"], None]
LabelKind = Literal["auto", "flags", "states"]

HISTORY_HORIZONS = 4  # the forecast takes about a fifth of the width: the recent past and the future at once
MIN_HISTORY = 48  # short horizons still show a couple of seasons (two days hourly, four years monthly)
FLAG_SHARE = 0.1  # 0/1 labels with more 1s than this are states, not anomalies (sklearn's contamination 0.1)
FLAG_COLOUR = "tab:red"
STATE_COLOURS = "Set2"  # pastel bands that stay behind the lines of the default colour cycle

_QUANTILE = re.compile(r"^(?P<name>.+)_q(?P<level>[0-9.eE+-]+)$")


def column_colour(position: int) -> str:
    """The colour of the ``position``-th column: matplotlib's default cycle (C0 blue, C1 orange, ...)."""
    return f"C{position % 10}"


def _x(index: pd.Index) -> Any:
    """The time as matplotlib draws it: dates for datetimes, periods and epoch numbers, else the numbers."""
    if isinstance(index, pd.PeriodIndex):
        return index.to_timestamp()
    if isinstance(index, pd.DatetimeIndex):
        return index.tz_localize(None) if index.tz is not None else index  # wall-clock times, as the data says
    if pd.api.types.is_numeric_dtype(index) and len(index):
        unit = epoch_unit(index.to_numpy())
        if unit is not None:
            return pd.to_datetime(index.to_numpy(dtype=np.int64), unit=unit)
    return index


def _is_dates(x: Any) -> bool:
    return isinstance(x, pd.DatetimeIndex)


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


def history_points(length: int, horizon: int, window: HistoryWindow = None) -> int:
    """How many of the last history points to draw: ``"all"``, a number, or by default
    ``max(HISTORY_HORIZONS * horizon, MIN_HISTORY)``."""
    if window == "all":
        return length
    if window is None:
        return min(length, max(HISTORY_HORIZONS * horizon, MIN_HISTORY))
    if int(window) < 1:
        raise ValueError(f"history window must be 'all' or a positive number of points, got {window!r}")
    return min(length, int(window))


def forecast_figure(history: pd.DataFrame, forecast: pd.DataFrame, *, history_window: HistoryWindow = None,
                    title: str = "") -> Any:
    """The recent history and the forecast of every history column the forecast covers (see the module)."""
    figure, (axis,) = _figure(1)
    recent = history.iloc[-history_points(len(history), len(forecast), history_window):]
    x_past, x_future = _x(recent.index), _x(forecast.index)
    for position, column in enumerate(history.columns):
        name, colour = str(column), column_colour(position)
        axis.plot(x_past, recent[column].to_numpy(dtype=float), color=colour, label=name)
        point = _point_column(forecast, name)
        if point is not None:
            axis.plot(x_future, forecast[point].to_numpy(dtype=float), color=colour, linestyle="--",
                      label=f"{name} forecast")
        levels = quantile_columns(forecast, name)
        if len(levels) >= 2:
            low, high = min(levels), max(levels)
            axis.fill_between(x_future, forecast[levels[low]].to_numpy(dtype=float),
                              forecast[levels[high]].to_numpy(dtype=float), color=colour, alpha=0.2,
                              linewidth=0, label=f"{name} {low:g}–{high:g}")
    if len(forecast):  # where the history ends and the forecast begins
        axis.axvline(x_future[0], color="0.6", linestyle=":", linewidth=1)
    _decorate(figure, [axis], title, dates=_is_dates(x_past) or _is_dates(x_future))
    return figure


def plot_forecast(history: pd.DataFrame, forecast: pd.DataFrame, path: Path | str, title: str = "", *,
                  history_window: HistoryWindow = None) -> Path:
    """:func:`forecast_figure` written to ``path`` (PNG)."""
    return _save(forecast_figure(history, forecast, history_window=history_window, title=title), path)


def label_kind(labels: np.ndarray) -> Literal["flags", "states"]:
    """``"flags"`` for 0/1 labels whose 1s are rare (at most :data:`FLAG_SHARE` of the labelled rows: anomalies
    are rare by definition), else ``"states"`` (e.g. an HMM's 0/1 states, where state 1 is just a regime)."""
    observed = labels[~np.isnan(labels)]
    binary = set(np.unique(observed).tolist()) <= {0.0, 1.0}
    if binary and (observed.size == 0 or (observed == 1).mean() <= FLAG_SHARE):
        return "flags"
    return "states"


def detection_figure(series: pd.DataFrame, labels: pd.DataFrame, *, kind: LabelKind = "auto",
                     title: str = "") -> Any:
    """One panel per column: the series, with its flagged points marked or its states as coloured bands.
    ``kind`` says what the labels are; ``"auto"`` tells by :func:`label_kind`."""
    figure, axes = _figure(max(1, series.shape[1]))
    x = _x(series.index)
    for position, (axis, column) in enumerate(zip(axes, series.columns)):
        name = str(column)
        values = series[column].to_numpy(dtype=float)
        axis.plot(x, values, color=column_colour(position), label=name)
        flags = labels[name].to_numpy(dtype=float) if name in labels.columns else np.zeros(len(values))
        if (label_kind(flags) if kind == "auto" else kind) == "flags":
            hit = flags == 1.0
            if hit.any():
                axis.scatter(np.asarray(x)[hit], values[hit], color=FLAG_COLOUR, zorder=3, s=25,
                             label=f"{name} flagged ({int(hit.sum())})")
        else:
            _shade_states(axis, np.asarray(x), flags)
    _decorate(figure, axes, title, dates=_is_dates(x))
    return figure


def plot_detection(series: pd.DataFrame, labels: pd.DataFrame, path: Path | str, title: str = "", *,
                   kind: LabelKind = "auto") -> Path:
    """:func:`detection_figure` written to ``path`` (PNG)."""
    return _save(detection_figure(series, labels, kind=kind, title=title), path)


def _shade_states(axis: Any, x: np.ndarray, states: np.ndarray) -> None:
    """A band per run of one state, coloured by the state; each state is named once in the legend."""
    import matplotlib

    palette = matplotlib.colormaps[STATE_COLOURS]
    known = np.unique(states[~np.isnan(states)])
    named: set[float] = set()
    start = 0
    for stop in range(1, len(states) + 1):
        if stop < len(states) and states[stop] == states[start]:
            continue
        state = states[start]
        if not np.isnan(state):
            colour = palette(int(np.searchsorted(known, state)) % palette.N)
            right = x[stop] if stop < len(x) else x[-1]
            axis.axvspan(x[start], right, color=colour, alpha=0.5, linewidth=0, zorder=0,
                         label=None if state in named else f"state {state:g}")
            named.add(state)
        start = stop


def _figure(panels: int) -> tuple[Any, list[Any]]:
    """A figure of ``panels`` stacked axes sharing the x axis (no pyplot: nothing global, nothing to close)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4 if panels == 1 else 1.2 + 2.4 * panels))
    return figure, list(figure.subplots(panels, 1, sharex=True, squeeze=False)[:, 0])


def _decorate(figure: Any, axes: list[Any], title: str, *, dates: bool) -> None:
    import matplotlib.dates as mdates

    for axis in axes:
        axis.legend(loc="upper left", fontsize="small")
        if dates:  # short, unambiguous tick labels (2024, Mar, 12:00) instead of raw numbers
            locator = mdates.AutoDateLocator()
            axis.xaxis.set_major_locator(locator)
            axis.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    axes[0].set_title(title)
    figure.tight_layout()


def _save(figure: Any, path: Path | str) -> Path:
    path = Path(path)
    figure.savefig(path, dpi=100)
    return path
