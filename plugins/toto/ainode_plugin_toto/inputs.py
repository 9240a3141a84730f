"""The core's validated inputs → batches Toto can run exactly as it runs each input alone.

Toto sees a series left-padded with zeros to whole patches (padding masked out of the scaler, but still
attended to by time-wise attention, and positions count from the first padded patch), so an input padded
to a longer length would get a different forecast. Inputs are therefore grouped by (padded length, number of
variates): each group stacks into one ``[B, V, T]`` tensor and gives every input its own alone-forecast.
NaN means "not observed": it reaches the model as 0 with its observed flag off, as in IoTDB's AINode.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np


@dataclass(frozen=True)
class Group:
    indices: list[int]  # positions of the group's inputs in the request batch
    series: np.ndarray  # float32 [B, V, T], unobserved values 0
    observed: np.ndarray  # bool [B, V, T]


def padded(targets: np.ndarray, patch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Targets ``[V, L]`` → (values, observed) ``[V, T]``, T = L rounded up to whole patches, zeros on the left."""
    variates, length = targets.shape
    total = -(-length // patch_size) * patch_size
    values = np.zeros((variates, total), dtype=np.float32)
    observed = np.zeros((variates, total), dtype=bool)
    values[:, total - length:] = np.nan_to_num(targets.astype(np.float32), nan=0.0)
    observed[:, total - length:] = ~np.isnan(targets)
    return values, observed


def group_inputs(inputs: Sequence[dict[str, Any]], patch_size: int) -> list[Group]:
    """Groups in order of first appearance; every input lands in exactly one."""
    by_shape: dict[tuple[int, int], list[int]] = {}
    prepared = [padded(item["targets"], patch_size) for item in inputs]
    for index, (values, _) in enumerate(prepared):
        by_shape.setdefault(values.shape, []).append(index)
    return [Group(indices, np.stack([prepared[i][0] for i in indices]), np.stack([prepared[i][1] for i in indices]))
            for indices in by_shape.values()]
