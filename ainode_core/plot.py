"""A forecast as a picture: history, forecast and (when quantiles are there) the interval band."""
from __future__ import annotations

from pathlib import Path

import pandas as pd


def plot_forecast(history: pd.DataFrame, forecast: pd.DataFrame, path: Path, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")  # headless
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(10, 4))
    for column in history.columns:
        x_hist = history.index.to_timestamp() if isinstance(history.index, pd.PeriodIndex) else history.index
        x_fut = forecast.index.to_timestamp() if isinstance(forecast.index, pd.PeriodIndex) else forecast.index
        name = str(column)
        axis.plot(x_hist, history[column], color="tab:blue", label=f"{name} (history)")
        axis.plot(x_fut, forecast[name], color="tab:orange", label=f"{name} (forecast)")
        bands = sorted(c for c in forecast.columns if c.startswith(f"{name}_q"))
        if len(bands) >= 2:
            axis.fill_between(x_fut, forecast[bands[0]], forecast[bands[-1]], color="tab:orange", alpha=0.25,
                              label=f"{name} {bands[0].split('_q')[-1]}–{bands[-1].split('_q')[-1]} interval")
    axis.set_title(title)
    axis.legend(loc="upper left")
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
