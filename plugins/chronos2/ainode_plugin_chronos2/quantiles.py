"""Turning Chronos-2's quantile predictions into the pipeline's output rows.

Chronos2Pipeline.predict gives one tensor ``[C, Q, H]`` per input (C targets, Q = the model's levels).
The pipeline returns ``[K * C, H]`` for K requested levels, **level-major**: row ``k * C + c`` is target
``c`` at the k-th requested level. With the default (median only) that is exactly ``[C, H]``.
"""
from __future__ import annotations

from typing import Sequence

import torch
from chronos.utils import interpolate_quantiles


def select_levels(prediction: torch.Tensor, model_levels: Sequence[float],
                  levels: Sequence[float]) -> torch.Tensor:
    """``[C, Q, H]`` at the model's levels → ``[K * C, H]`` at the requested levels, level-major."""
    indices = [_index_of(level, model_levels) for level in levels]
    if all(index is not None for index in indices):
        chosen = prediction[:, indices, :]  # [C, K, H]: exact levels need no interpolation
    else:
        # Same call as Chronos2Pipeline.predict_quantiles, so interpolated levels match it exactly.
        by_step = interpolate_quantiles(list(levels), list(model_levels), prediction.transpose(1, 2))
        chosen = by_step.transpose(1, 2)  # [C, H, K] -> [C, K, H]
    return chosen.transpose(0, 1).reshape(len(levels) * prediction.shape[0], prediction.shape[-1])


def _index_of(level: float, model_levels: Sequence[float]) -> int | None:
    for index, model_level in enumerate(model_levels):
        if abs(model_level - level) < 1e-9:
            return index
    return None
