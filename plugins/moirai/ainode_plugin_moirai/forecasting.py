"""Quantile forecasts of any horizon, as uni2ts 2.0.0's ``Moirai2Forecast.forward`` (and IoTDB's node) make them.

Up to ``num_predict_token`` patches (64 steps for moirai-2.0-R-small): one forward pass; each variate's last
context token predicts them at the 9 quantile levels. Beyond: an autoregressive rollout over one copy of the
tokens per level: copy ``q`` continues from the level-``q`` forecast; each further pass predicts the next
patches from every copy (9 x 9 values per step) and their empirical quantiles (``torch.quantile``) are both
the forecast and what each copy continues from.

uni2ts 2.0.0 and IoTDB's node fail on several variates beyond one pass (an einops rearrange pins the token
count to ``num_predict_token`` instead of variates x tokens); here the copies are indexed per variate, which is
what their code means for one variate and gives the same numbers there.

Inputs of one call are grouped by size (:data:`PADDING_SLACK`) and each group shares its forward passes.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ainode_plugin_moirai.modeling import Moirai2Model
from ainode_plugin_moirai.packing import Layout, Tokens, pack

# Rows per forward pass are capped so the attention scores (rows x heads x tokens^2 floats) stay within this,
# and on a CPU so one pass holds about this many tokens: activations then stay in cache (measured on the real
# size, 256 series: 7.5 -> 13.6 series/s at horizon 96). Rows are independent: a split batch gives the same numbers.
ATTENTION_BUDGET = 2**26
CPU_TOKENS_PER_PASS = 1024
QUANTILE_BUDGET = 2**24  # torch.quantile refuses larger inputs
# Inputs share a model call while the shared (padded) layout has at most this many times the tokens of the
# smallest input in it: attention costs tokens^2, so a short series must not be padded to a long one's size.
PADDING_SLACK = 1.5


@torch.inference_mode()
def forecast_quantiles(model: Moirai2Model, series: Sequence[np.ndarray], horizon: int) -> list[torch.Tensor]:
    """Each input's targets ``[C, L]`` (NaN = missing) → ``[C, levels, horizon]`` float32 on the CPU."""
    results: list[torch.Tensor] = [torch.empty(0)] * len(series)
    for group in _similar_sizes(series, horizon, model.config.patch_size):
        for index, one in zip(group, _forecast_together(model, [series[i] for i in group], horizon)):
            results[index] = one
    return results


def _similar_sizes(series: Sequence[np.ndarray], horizon: int, patch: int) -> list[list[int]]:
    """Input indices grouped so that padding each group to its widest layout wastes little."""
    ahead = -(-horizon // patch)
    shapes = [(targets.shape[0], -(-targets.shape[1] // patch)) for targets in series]
    groups: list[list[int]] = []
    smallest = variates = context = 0
    for index in sorted(range(len(series)), key=lambda i: shapes[i][0] * (shapes[i][1] + ahead)):
        wider_variates, wider_context = max(variates, shapes[index][0]), max(context, shapes[index][1])
        if groups and wider_variates * (wider_context + ahead) <= PADDING_SLACK * smallest:
            groups[-1].append(index)
            variates, context = wider_variates, wider_context
        else:
            groups.append([index])
            variates, context = shapes[index]
            smallest = variates * (context + ahead)
    return groups


def _forecast_together(model: Moirai2Model, series: Sequence[np.ndarray], horizon: int) -> list[torch.Tensor]:
    """One layout for all ``series``: the model calls of one forecast, shared."""
    config = model.config
    patch, ahead = config.patch_size, config.num_predict_token
    levels = torch.tensor(config.quantile_levels, dtype=torch.float32, device=model.device)
    tokens, layout = pack(series, horizon, patch, model.device)

    first = _predict(model, tokens, layout.last_context(), min(layout.horizon, ahead))  # [B, C, n, Q, P]
    steps = [first]
    if layout.horizon > ahead:
        paths = _continue_paths(tokens.repeat_rows(len(levels)), layout, first, 0)
        filled = ahead
        while filled < layout.horizon:
            count = min(ahead, layout.horizon - filled)
            ahead_of_paths = _predict(model, paths, layout.future(filled - 1), count)  # [B*Q, C, n, Q, P]
            step = _pooled_quantiles(ahead_of_paths, len(levels), levels)  # [B, C, n, Q, P]
            paths = _continue_paths(paths, layout, step, filled)
            steps.append(step)
            filled += count
    quantiles = torch.cat(steps, dim=2)  # [B, C, Np, Q, P]
    quantiles = quantiles.permute(0, 1, 3, 2, 4).flatten(-2)[..., :horizon].cpu()  # [B, C, Q, H]
    return [one[:len(targets)] for one, targets in zip(quantiles, series)]


def _predict(model: Moirai2Model, tokens: Tokens, source: torch.Tensor, count: int) -> torch.Tensor:
    """What the tokens at ``source`` (one per variate) predict for the next ``count`` patches:
    ``[rows, C, count, levels, patch]``."""
    config = model.config
    rows, length = tokens.sample_id.shape
    chunk = ATTENTION_BUDGET // (config.num_heads * length * length)
    if tokens.target.device.type == "cpu":
        chunk = min(chunk, CPU_TOKENS_PER_PASS // length)
    chunk = max(1, chunk)
    out = []
    for start in range(0, rows, chunk):
        part = model(**tokens.rows(slice(start, start + chunk)).as_kwargs(), at=source.to(tokens.target.device))
        out.append(part.unflatten(-1, (config.num_predict_token, len(config.quantile_levels),
                                       config.patch_size))[:, :, :count])
    return torch.cat(out)


def _pooled_quantiles(predicted: torch.Tensor, paths: int, levels: torch.Tensor) -> torch.Tensor:
    """``[B * paths, C, n, Q, P]`` → the levels' quantiles over each row's ``paths x Q`` values:
    ``[B, C, n, levels, P]``."""
    rows, variates, count, quantiles, patch = predicted.shape
    samples = predicted.unflatten(0, (rows // paths, paths)).permute(0, 2, 3, 5, 1, 4)  # [B, C, n, P, paths, Q]
    samples = samples.flatten(-2)
    per_row = max(1, QUANTILE_BUDGET // samples[0].numel())
    pooled = torch.cat([torch.quantile(samples[start:start + per_row], levels, dim=-1)
                        for start in range(0, len(samples), per_row)], dim=1)  # [levels, B, C, n, P]
    return pooled.permute(1, 2, 3, 0, 4)


def _continue_paths(paths: Tokens, layout: Layout, step: torch.Tensor, first: int) -> Tokens:
    """Write ``step`` ([B, C, n, Q, P]) into the copies (row ``b * Q + q`` gets level ``q``) as known values
    of forecast tokens ``first .. first + n - 1``, which then also count in the scaler."""
    batch, variates, count, levels, patch = step.shape
    index = torch.stack([layout.future(first + j) for j in range(count)], dim=-1).flatten()  # [C * n]
    index = index.to(paths.target.device)
    values = step.permute(0, 3, 1, 2, 4).reshape(batch * levels, variates * count, patch)
    target, prediction = paths.target.clone(), paths.prediction.clone()
    target[:, index] = values
    prediction[:, index] = False
    return paths.with_values(target, prediction)
