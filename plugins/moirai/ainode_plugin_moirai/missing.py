"""Missing values (NaN, how the core delivers IoTDB nulls), handled as IoTDB's node handles them.

IoTDB's Moirai-2 (like uni2ts 2.0.0's ``Moirai2Forecast.predict``) marks NaN steps unobserved, so they count
neither in the series' scale nor as observed patches, then fills them with uni2ts' ``CausalMeanImputation``
before the model reads them. That class expects ``[variates, time]`` but is given ``[time, variates]``, so what
it really does is: every NaN of the first variate becomes 0, and a NaN of a later variate becomes the mean of
the earlier variates' values at the same step (after copying the nearest earlier variate's value into NaNs).
The filled values still reach the model's input (flagged unobserved), so we fill exactly the same way: the
same numbers as IoTDB for the same data.
"""
from __future__ import annotations

import numpy as np


def fill_missing(targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``targets`` [C, L] (NaN = missing) → (filled copy, observed mask), both [C, L]."""
    observed = ~np.isnan(targets)
    if observed.all():
        return targets, observed
    carried = targets.copy()
    carried[0][np.isnan(carried[0])] = 0.0
    for variate in range(1, len(carried)):  # NaN takes the value of the variate above at the same step
        gaps = np.isnan(carried[variate])
        carried[variate][gaps] = carried[variate - 1][gaps]
    # Then the mean of the variates above replaces each later variate's NaN (the first keeps its zeros).
    above = np.cumsum(np.vstack([np.zeros((1, carried.shape[1])), carried[:-1]]), axis=0)
    counts = np.maximum(np.arange(len(carried), dtype=np.float64), 1.0)[:, None]
    filled = carried.copy()
    later = ~observed
    later[0] = False
    filled[later] = (above / counts)[later]
    return filled, observed
