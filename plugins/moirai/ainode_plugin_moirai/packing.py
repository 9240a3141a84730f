"""Inputs → Moirai-2 tokens, laid out as uni2ts 2.0.0's ``Moirai2Forecast._convert`` lays out one input.

One input (targets ``[C, L]``, horizon ``H``) is ``C * Nc`` context tokens (variate by variate, the whole
input, left-padded with zeros to a multiple of the patch size; padded steps unobserved, so the scaler skips
them) followed by ``C * Np`` tokens to forecast (zeros, flagged ``prediction``). Token ids: ``sample_id`` 1,
``variate_id`` the variate, ``time_id`` the patch's place counted from the first patch with any observed
value (uni2ts' rule), forecast patches after the last context patch.

Several inputs share one call: each row is padded to the batch's widest layout (most variates ``C`` and
context patches ``Nc``) with filler tokens of ``sample_id`` 0, which no real token attends to and the scaler
ignores, so every input gets the answer it gets alone (within float rounding), and every row has the same
layout, so one index picks the same token in every row.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
import torch

from ainode_plugin_moirai.missing import fill_missing


@dataclass(frozen=True)
class Layout:
    """Token positions shared by every row of a batch."""

    variates: int  # C: the most variates of any input
    context: int  # Nc: context patches per variate
    horizon: int  # Np: patches to forecast per variate

    def last_context(self) -> torch.Tensor:
        """Index of each variate's last context token (it predicts the first patches to come)."""
        return torch.arange(1, self.variates + 1) * self.context - 1

    def future(self, step: int) -> torch.Tensor:
        """Index of each variate's ``step``-th token to forecast."""
        return self.variates * self.context + torch.arange(self.variates) * self.horizon + step


@dataclass(frozen=True)
class Tokens:
    target: torch.Tensor  # [B, T, patch] float32
    observed: torch.Tensor  # [B, T, patch] bool
    sample_id: torch.Tensor  # [B, T] long: 1 real, 0 filler
    time_id: torch.Tensor  # [B, T] long
    variate_id: torch.Tensor  # [B, T] long
    prediction: torch.Tensor  # [B, T] bool: still to forecast

    def as_kwargs(self) -> dict[str, torch.Tensor]:
        return dict(target=self.target, observed=self.observed, sample_id=self.sample_id, time_id=self.time_id,
                    variate_id=self.variate_id, prediction=self.prediction)

    def rows(self, index: slice | torch.Tensor) -> "Tokens":
        return Tokens(**{name: value[index] for name, value in self.as_kwargs().items()})

    def repeat_rows(self, times: int) -> "Tokens":
        """Each row ``times`` times in a row (row ``b * times + k``): one copy per quantile path."""
        return Tokens(**{name: value.repeat_interleave(times, dim=0) for name, value in self.as_kwargs().items()})

    def with_values(self, target: torch.Tensor, prediction: torch.Tensor) -> "Tokens":
        return replace(self, target=target, prediction=prediction)


def pack(series: Sequence[np.ndarray], horizon: int, patch: int, device: str | torch.device) -> tuple[Tokens, Layout]:
    """``series``: each input's targets ``[C, L]`` (NaN = missing) → tokens of the whole batch."""
    filled = [fill_missing(np.asarray(targets, dtype=np.float64)) for targets in series]
    layout = Layout(variates=max(values.shape[0] for values, _ in filled),
                    context=max(-(-values.shape[1] // patch) for values, _ in filled),
                    horizon=-(-horizon // patch))
    rows = [_row(values, observed, layout, patch) for values, observed in filled]
    return Tokens(*(torch.from_numpy(np.stack(parts)).to(device) for parts in zip(*rows))), layout


def _row(values: np.ndarray, observed: np.ndarray, layout: Layout, patch: int) -> tuple[np.ndarray, ...]:
    variates, length = values.shape
    width = layout.context * patch
    context = np.zeros((layout.variates, width), dtype=np.float32)
    seen = np.zeros((layout.variates, width), dtype=bool)
    context[:variates, width - length:] = values  # float64 → float32 here, as the reference casts
    seen[:variates, width - length:] = observed
    own = -(-length // patch)  # this input's own context patches; the ones before are fillers
    real_context = np.zeros((layout.variates, layout.context), dtype=np.int64)
    real_context[:variates, layout.context - own:] = 1

    patches_seen = seen.reshape(layout.variates, layout.context, patch).any(axis=(0, 2))
    context_time = np.maximum(np.cumsum(np.maximum.accumulate(patches_seen)) - 1, 0)
    future_time = np.arange(layout.horizon) + context_time.max() + 1

    future = layout.variates * layout.horizon
    target = np.concatenate([context.reshape(-1, patch), np.zeros((future, patch), dtype=np.float32)])
    observed_tokens = np.concatenate([seen.reshape(-1, patch), np.ones((future, patch), dtype=bool)])
    real_future = np.zeros((layout.variates, layout.horizon), dtype=np.int64)
    real_future[:variates] = 1
    sample_id = np.concatenate([real_context.ravel(), real_future.ravel()])
    time_id = np.concatenate([np.tile(context_time, layout.variates), np.tile(future_time, layout.variates)])
    variate_id = np.concatenate([np.repeat(np.arange(layout.variates), layout.context),
                                 np.repeat(np.arange(layout.variates), layout.horizon)])
    prediction = np.concatenate([np.zeros(layout.variates * layout.context, dtype=bool), np.ones(future, dtype=bool)])
    return target, observed_tokens, sample_id, time_id, variate_id, prediction
