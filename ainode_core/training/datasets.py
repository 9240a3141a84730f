"""The forms a fine-tuning dataset arrives in, reduced to one: named 1-D float64 arrays.

``read_dataset`` yields ``(name, array)`` pairs; a model's own tests often pass bare arrays or a 2-D array
(one series per row). Every model type's ``finetune`` starts from this list.
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np


def named_series(dataset: Iterable[Any] | np.ndarray) -> list[tuple[str, np.ndarray]]:
    if isinstance(dataset, np.ndarray) and dataset.ndim == 2:
        dataset = list(dataset)
    series = []
    for index, item in enumerate(dataset):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            name, values = item
        else:
            name, values = f"series {index}", item
        series.append((name, np.asarray(values, dtype=np.float64).ravel()))
    return series
