"""Zero-shot forecasting with MOMENT's pre-trained head: the future as masked trailing patches (numpy only).

MOMENT was pre-trained to reconstruct masked patches from the patches around them; its forecasting head exists
only after fine-tuning and is never used here. A horizon of H steps is rounded up to H' = whole patches; the
window holds the last ``seq_len - H'`` rows of the series followed by H' missing rows. Those rows take exactly
the path a missing row takes in :mod:`ainode_plugin_moment.windows` and in momentfm's ``reconstruction`` with a
``mask``: ``input_mask`` 1 (the encoder attends to them), ``mask`` 0 (their patches become the learned mask
token), left out of the RevIN statistics (so the reconstruction is de-normalised with the statistics of the
observed rows only). The first H reconstructed rows are the forecast.

At most half the window is masked (H' <= ``seq_len // 2``, 256 of 512 rows): the model keeps at least as
much context as it fills, which is the regime of its pre-training (30% of patches masked). Longer horizons
roll forward: each chunk's forecast is appended to the series and the next chunk reads it as context.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence, TypeVar

import numpy as np

Item = TypeVar("Item")
Answer = TypeVar("Answer")

FORECAST_KEYS = ("past_covariates", "future_covariates")  # what the Thrift forecast path adds to an input


def is_forecast_request(item: Any) -> bool:
    """A ``FORECAST`` / Thrift ``forecast`` input (it carries covariate slots, even empty ones); ``CALL
    INFERENCE`` / Thrift ``inference`` sends targets only and gets detection answers."""
    return isinstance(item, Mapping) and any(key in item for key in FORECAST_KEYS)


def by_kind(inputs: Sequence[Item], on_detection: Callable[[list[Item]], Sequence[Answer]],
            on_forecast: Callable[[list[Item]], Sequence[Answer]]) -> list[Answer]:
    """``on_detection`` on the detection inputs and ``on_forecast`` on the forecast inputs (each called once, and
    only when it has inputs), the answers back in input order: requests of both kinds share a batch when their
    options are equal."""
    wants = [is_forecast_request(item) for item in inputs]
    detected = iter(on_detection([item for item, ahead in zip(inputs, wants) if not ahead]) if not all(wants) else [])
    forecast = iter(on_forecast([item for item, ahead in zip(inputs, wants) if ahead]) if any(wants) else [])
    return [next(forecast) if ahead else next(detected) for ahead in wants]


def max_masked_rows(seq_len: int, patch_len: int) -> int:
    """The most rows one pass masks: half the window, in whole patches (256 for MOMENT's 512)."""
    return max(patch_len, (seq_len // 2) // patch_len * patch_len)


def rollout_chunks(horizon: int, seq_len: int, patch_len: int) -> list[int]:
    """Forecast steps per pass: as many as fit, the last pass takes the rest (500 → [256, 244])."""
    most = max_masked_rows(seq_len, patch_len)
    return [min(most, horizon - done) for done in range(0, horizon, most)]


def masked_rows(steps: int, patch_len: int) -> int:
    """H' = ``steps`` rounded up to whole patches: a patch is masked whole or not at all."""
    return -(-steps // patch_len) * patch_len


def masked_tail(history: np.ndarray, steps: int, seq_len: int, patch_len: int) -> np.ndarray:
    """The series one pass reconstructs: the last ``seq_len - H'`` rows of ``history``, then H' missing rows
    (NaN). Its length is at most ``seq_len``, so it is one window; the forecast is the ``steps`` rows that
    follow ``history``."""
    masked = masked_rows(steps, patch_len)
    context = np.asarray(history, dtype=np.float64)[-(seq_len - masked):]
    return np.concatenate([context, np.full(masked, np.nan)])


def forecast_rows(tail: np.ndarray, steps: int, patch_len: int) -> slice:
    """Where the forecast sits in a :func:`masked_tail` of ``steps`` forecast steps (its first masked rows)."""
    first = len(tail) - masked_rows(steps, patch_len)
    return slice(first, first + steps)
