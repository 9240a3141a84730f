"""Sample paths → the pipeline's output rows.

With ``quantiles`` the output of an input with C variates is ``[K * C, H]``, **level-major** as Chronos-2's:
row ``k * C + c`` is variate ``c`` at the k-th requested level, levels in the order requested. Quantiles of
the paths are linear interpolations between order statistics (``torch.quantile``'s and numpy's default, as
toto-ts' ``Forecast.quantile``).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def level_major(samples: np.ndarray, levels: Sequence[float]) -> np.ndarray:
    """Paths ``[C, H, N]`` → ``[K * C, H]``."""
    # numpy, not torch.quantile: torch refuses inputs above 16M values
    per_level = np.quantile(samples, list(levels), axis=-1)  # [K, C, H]
    return per_level.reshape(len(levels) * samples.shape[0], samples.shape[1])
