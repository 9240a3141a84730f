"""Toto's output head: a mixture of K Student-T distributions per forecast step, in the scaled space, then
mapped back to the series' units by the scaler's loc/scale (toto-ts ``MixtureOfStudentTsOutput`` wrapped in
gluonts' ``AffineTransformed``).

:class:`Mixture` holds the parameters; its :meth:`Mixture.mean` is what the reference's ``distr.mean`` gives
(degrees of freedom are always above 2, so every component has a mean: its location).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Mixture:
    """Per step ``[..., K]``: weights (normalised), degrees of freedom, locations, scales; and the affine map
    ``[...]`` back to the series' units: ``value = loc + scale * x``."""

    probs: torch.Tensor
    df: torch.Tensor
    component_loc: torch.Tensor
    component_scale: torch.Tensor
    loc: torch.Tensor
    scale: torch.Tensor

    def mean(self) -> torch.Tensor:
        return (self.probs * self.component_loc).sum(-1) * self.scale + self.loc

    def repeat(self, times: int) -> Mixture:
        """``times`` copies of every batch row (copies of one row adjacent), as the sampling rows are laid out."""
        return Mixture(*(field.repeat_interleave(times, dim=0) for field in (
            self.probs, self.df, self.component_loc, self.component_scale, self.loc, self.scale)))


class StudentTMixtureHead(torch.nn.Module):
    def __init__(self, embed_dim: int, k_components: int) -> None:
        super().__init__()
        self.df = torch.nn.Linear(embed_dim, k_components)
        self.loc_proj = torch.nn.Linear(embed_dim, k_components)
        self.scale_proj = torch.nn.Linear(embed_dim, k_components)
        self.mixture_weights = torch.nn.Linear(embed_dim, k_components)

    def forward(self, hidden: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor) -> Mixture:
        eps = torch.finfo(hidden.dtype).eps
        probs = F.softmax(self.mixture_weights(hidden), dim=-1)
        return Mixture(
            probs=probs / probs.sum(-1, keepdim=True),  # torch's Categorical re-normalises the same way
            df=2.0 + F.softplus(self.df(hidden)).clamp_min(eps),
            component_loc=self.loc_proj(hidden),
            component_scale=F.softplus(self.scale_proj(hidden)).clamp_min(eps),
            loc=loc,
            scale=scale,
        )


def replace_extreme_values(values: torch.Tensor) -> torch.Tensor:
    """NaN, ±inf and values beyond half the dtype's range become 0, as toto-ts does with every decoded patch."""
    extreme = ~torch.isfinite(values) | (values.abs() >= torch.finfo(values.dtype).max / 2)
    return torch.where(extreme, torch.zeros_like(values), values)
