"""Autoregressive decoding, patch by patch with the KV cache (toto-ts ``TotoForecaster``).

* :func:`decode_mean`: each step appends the mixture's mean for the next patch (``generate_mean``; what
  IoTDB's AINode returns).
* :func:`decode_samples`: each step appends one draw per sample path (``generate_samples``). The context is
  encoded once and its KV cache copied to every path (toto-ts encodes it once per path); draws come from
  :func:`ainode_plugin_toto.sampling.draw`, so they depend only on the seed, never on batch neighbours or on
  how the paths are split into chunks.

Series ``[B, V, T]`` are float32, T a multiple of the patch size, unobserved values 0 with ``observed`` False.
"""
from __future__ import annotations

import torch

from ainode_plugin_toto.distribution import Mixture, replace_extreme_values
from ainode_plugin_toto.modeling import TotoBackbone
from ainode_plugin_toto.sampling import Draws, draw, student_t_quantile


def _steps(model: TotoBackbone, horizon: int) -> int:
    return -(-horizon // model.patch_size)


def _capacity(model: TotoBackbone, series: torch.Tensor, steps: int) -> int:
    """Tokens a forecast puts in the KV cache: the context's and every decoded patch but the last."""
    return series.shape[-1] // model.patch_size + steps - 1


def _prefill(model: TotoBackbone, series: torch.Tensor, observed: torch.Tensor, capacity: int):
    """Encode the context; return the first patch's distribution, the scaler state and the KV cache."""
    batch, variates, _ = series.shape
    scaled = model.scaler.start(series, observed)
    caches = model.allocate_cache(batch * variates, capacity)
    newest = model.encode(scaled.values, caches)
    last = slice(-model.patch_size, None)
    return model.head(newest, scaled.loc[..., last], scaled.scale[..., last]), scaled.state, caches


@torch.no_grad()
def first_patch(model: TotoBackbone, series: torch.Tensor, observed: torch.Tensor) -> Mixture:
    """The distribution of the first forecast patch ``[B, V, P, K]``: what the mean and every path start from."""
    return _prefill(model, series, observed, series.shape[-1] // model.patch_size)[0]


@torch.no_grad()
def decode_mean(model: TotoBackbone, series: torch.Tensor, observed: torch.Tensor, horizon: int) -> torch.Tensor:
    """The mean forecast ``[B, V, horizon]``."""
    steps = _steps(model, horizon)
    mixture, state, caches = _prefill(model, series, observed, _capacity(model, series, steps))
    patches = []
    for step in range(steps):
        patch = replace_extreme_values(mixture.mean())
        patches.append(patch)
        if step + 1 < steps:
            scaled = model.scaler.extend(state, patch)
            state = scaled.state
            mixture = model.head(model.encode(scaled.values, caches), scaled.loc, scaled.scale)
    return torch.cat(patches, dim=-1)[..., :horizon]


@torch.no_grad()
def decode_samples(model: TotoBackbone, series: torch.Tensor, observed: torch.Tensor, horizon: int,
                   num_samples: int, seed: int, chunk: int) -> torch.Tensor:
    """``num_samples`` sample paths ``[B, V, horizon, num_samples]``, decoded ``chunk`` paths at a time (the
    chunking changes the memory used, not the numbers)."""
    steps = _steps(model, horizon)
    # the context's cache is only copied from, so it needs no room for decoded patches
    first, context_state, context_caches = _prefill(model, series, observed, series.shape[-1] // model.patch_size)
    variates = series.shape[1]
    capacity = _capacity(model, series, steps)
    results = []
    for start in range(0, num_samples, chunk):
        paths = min(chunk, num_samples - start)
        caches = [cache.repeat(paths, variates, capacity) for cache in context_caches]
        state = context_state.repeat(paths)
        mixture = first.repeat(paths)
        patches = []
        for step in range(steps):
            draws = draw(seed, step, start, start + paths, variates, model.patch_size)
            patch = replace_extreme_values(_sample(mixture, draws))
            patches.append(patch)
            if step + 1 < steps:
                scaled = model.scaler.extend(state, patch)
                state = scaled.state
                mixture = model.head(model.encode(scaled.values, caches), scaled.loc, scaled.scale)
        # rows are (series, path): [B * paths, V, H] -> [B, V, H, paths]
        samples = torch.cat(patches, dim=-1)[..., :horizon]
        results.append(samples.unflatten(0, (-1, paths)).permute(0, 2, 3, 1))
    return torch.cat(results, dim=-1)


def _sample(mixture: Mixture, draws: Draws) -> torch.Tensor:
    """One value per step from the mixture, by inverse transform of the draws (see sampling.py)."""
    rows = mixture.probs.shape[0]
    # draws are per path; every series of the batch uses the same ones (rows are (series, path))
    component_u = draws.component.repeat(rows // draws.component.shape[0], 1, 1)
    student_u = draws.student.repeat(rows // draws.student.shape[0], 1, 1)
    cumulative = mixture.probs.to(torch.float64).cumsum(-1)
    device = mixture.probs.device
    chosen = (component_u.to(device).unsqueeze(-1) >= cumulative[..., :-1]).sum(-1, keepdim=True)
    df = mixture.df.gather(-1, chosen).squeeze(-1)
    loc = mixture.component_loc.gather(-1, chosen).squeeze(-1)
    scale = mixture.component_scale.gather(-1, chosen).squeeze(-1)
    standard = student_t_quantile(df, student_u)
    value = loc.to(torch.float64) + scale.to(torch.float64) * standard
    return mixture.loc + mixture.scale * value.to(mixture.loc.dtype)
