"""Seeded draws for sampling Toto's Student-T mixture by inverse transform.

A draw is two uniforms per (path, variate, step): one picks the mixture component (against the cumulative
weights), one is mapped through that component's Student-T quantile function (``scipy.special.stdtrit``).
Unlike ``torch.distributions`` sampling (toto-ts), which reads torch's global generator, the uniforms come
from numpy's PCG64 seeded by ``(seed, decoding step)`` and are laid out path-major, so path ``p`` gets the
same numbers whatever the number of paths, the chunk it is decoded in, the other requests in the batch, or
the device: two identical requests give identical answers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import stdtrit

# Keep uniforms off the exact ends of [0, 1): stdtrit(df, 0) is -inf.
_TINY = 1e-12


@dataclass(frozen=True)
class Draws:
    component: torch.Tensor  # float64 uniforms [paths, V, P] choosing the mixture component
    student: torch.Tensor  # float64 uniforms [paths, V, P] for the Student-T quantile


def draw(seed: int, step: int, first_path: int, end_path: int, variates: int, patch_size: int) -> Draws:
    """The uniforms of paths ``first_path .. end_path - 1`` at decoding ``step``."""
    generator = np.random.default_rng([seed, step])
    # path-major: the numbers of path p never depend on how many paths follow it
    uniforms = generator.random((end_path, 2, variates, patch_size))[first_path:]
    uniforms = torch.from_numpy(np.clip(uniforms, _TINY, 1.0 - _TINY))
    return Draws(uniforms[:, 0], uniforms[:, 1])


def student_t_quantile(df: torch.Tensor, uniforms: torch.Tensor) -> torch.Tensor:
    """Standard Student-T quantiles at ``uniforms`` (float64, CPU) for degrees of freedom ``df``, float64 on
    ``df``'s device."""
    values = stdtrit(df.detach().to("cpu", torch.float64).numpy(), uniforms.numpy())
    return torch.from_numpy(values).to(df.device)
