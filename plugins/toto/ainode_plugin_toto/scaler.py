"""Toto's causal patch scaler (toto-ts ``CausalPatchStdMeanScaler``), kept incremental for decoding.

Each patch is standardised by the running (causal) mean and Bessel-corrected standard deviation of
everything observed up to and including that patch (Welford's algorithm, in float64), optionally clamped to
within ``10 ** ±scale_factor_exponent`` of the context's global scale. Unobserved values (left padding, NaN)
have weight 0. The reference recomputes the cumulative sums over the whole sequence at every decoding step;
here the running sums are carried in :class:`ScalerState` and extended by one patch, with the same
sequential additions (``cumsum`` over the previous total and the new values), so the numbers are the same.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

MINIMUM_SCALE = 0.1  # toto-ts' default for its causal scalers


@dataclass(frozen=True)
class ScalerState:
    """Running statistics after the last position of every series, float64 ``[B, V, 1]``."""

    weight: torch.Tensor  # observed values so far
    total: torch.Tensor  # their sum
    m2: torch.Tensor  # Welford's sum of squared deviations
    mean: torch.Tensor  # the causal mean at the last position
    low: torch.Tensor | None  # clamp bounds from the context's global scale (stabilize_with_global)
    high: torch.Tensor | None

    def repeat(self, times: int) -> ScalerState:
        """The state of ``times`` copies of every series ``[B * times, V, 1]``, copies of one series adjacent."""
        def rep(tensor: torch.Tensor | None) -> torch.Tensor | None:
            return None if tensor is None else tensor.repeat_interleave(times, dim=0)

        return ScalerState(rep(self.weight), rep(self.total), rep(self.m2), rep(self.mean), rep(self.low),
                           rep(self.high))


@dataclass(frozen=True)
class Scaled:
    values: torch.Tensor  # the standardised series, float32 [B, V, T]
    loc: torch.Tensor  # the mean used for each position, float32 [B, V, T]
    scale: torch.Tensor  # the scale used for each position, float32 [B, V, T]
    state: ScalerState


class CausalPatchScaler:
    def __init__(self, patch_size: int, stabilize_with_global: bool, scale_factor_exponent: float) -> None:
        self.patch_size = patch_size
        self.stabilize_with_global = stabilize_with_global
        self.scale_factor_exponent = scale_factor_exponent

    def start(self, series: torch.Tensor, observed: torch.Tensor) -> Scaled:
        """Scale a whole context ``[B, V, T]`` (T a multiple of the patch size; unobserved values hold 0)."""
        data = series.to(torch.float64)
        weights = observed.to(torch.float64)
        low = high = None
        if self.stabilize_with_global:
            low, high = self._global_bounds(data, weights)
        zeros = torch.zeros_like(data[..., :1])
        return self._scale(series, data, weights, ScalerState(zeros, zeros, zeros, zeros, low, high))

    def extend(self, state: ScalerState, patch: torch.Tensor) -> Scaled:
        """Scale one more (fully observed) patch ``[B, V, P]`` that follows the state's series."""
        data = patch.to(torch.float64)
        return self._scale(patch, data, torch.ones_like(data), state)

    def _global_bounds(self, data: torch.Tensor, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # The context's own mean and (uncorrected) std; the scale may move 10**±exponent away from it.
        denominator = weights.sum(-1, keepdim=True).clamp_min(1.0)
        mean = torch.nan_to_num((weights * data).sum(-1, keepdim=True) / denominator)
        variance = (((data - mean) * weights) ** 2).sum(-1, keepdim=True) / denominator
        scale = torch.sqrt(variance + MINIMUM_SCALE)
        # toto-ts builds the floor from torch.tensor(0.1): a float32 0.1
        floor = torch.tensor(MINIMUM_SCALE, dtype=torch.float32).to(torch.float64)
        return (torch.maximum(floor, scale * 10.0 ** -self.scale_factor_exponent),
                scale * 10.0 ** self.scale_factor_exponent)

    def _scale(self, series: torch.Tensor, data: torch.Tensor, weights: torch.Tensor,
               state: ScalerState) -> Scaled:
        def running(start: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
            # cumsum continued from the previous total: the reference's sequential sums, one patch at a time
            return torch.cumsum(torch.cat([start, values], dim=-1), dim=-1)[..., 1:]

        weight = running(state.weight, weights)
        total = running(state.total, weights * data)
        denominator = weight.clamp_min(1.0)
        means = total / denominator
        previous = torch.cat([state.mean, means[..., :-1]], dim=-1)
        m2 = running(state.m2, (data - previous) * (data - means) * weights)
        variance = m2 / torch.clamp(denominator - 1.0, min=1.0)  # Bessel's correction
        scales = torch.sqrt(variance + MINIMUM_SCALE)
        if state.low is not None:
            scales = torch.clamp(scales, min=state.low, max=state.high)
        # every position of a patch uses the statistics at the patch's last position
        patches = series.shape[-1] // self.patch_size
        last = torch.arange(patches, device=series.device) * self.patch_size + self.patch_size - 1
        loc = means[..., last].to(series.dtype).repeat_interleave(self.patch_size, dim=-1)
        scale = scales[..., last].to(series.dtype).repeat_interleave(self.patch_size, dim=-1)
        new_state = ScalerState(weight[..., -1:], total[..., -1:], m2[..., -1:], means[..., -1:], state.low,
                                state.high)
        return Scaled((series - loc) / scale, loc, scale, new_state)
