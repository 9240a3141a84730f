"""Toto's rotary position embedding with xPos scaling (toto-ts ``TimeAwareRotaryEmbedding`` over
``rotary-embedding-torch`` 0.8.6), for time-wise attention.

Two quirks of the reference are kept on purpose, because the published weights were trained with them:
the rotation angles are interleaved per pair (``[f0, f0, f1, f1, ...]``) while the xPos scales are
concatenated (``[s0, s1, ..., s0, s1, ...]``), and the xPos exponent is centred on the middle of the
positions rotated *in that call* (``t - max(t) // 2``), so a decoding step (one position) is centred on itself.
"""
from __future__ import annotations

import torch

THETA = 10000.0
XPOS_SCALE_BASE = 512


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    pairs = x.unflatten(-1, (-1, 2))
    return torch.stack((-pairs[..., 1], pairs[..., 0]), dim=-1).flatten(-2)


class XPosRotary(torch.nn.Module):
    def __init__(self, head_dim: int) -> None:
        super().__init__()
        exponents = torch.arange(0, head_dim, 2)[: head_dim // 2].float() / head_dim
        # Fixed, not weights: the checkpoint's stored copy of the frequencies is ignored, as the reference does.
        self.register_buffer("freqs", 1.0 / (THETA ** exponents), persistent=False)
        self.register_buffer("xpos", (torch.arange(0, head_dim, 2) + 0.4 * head_dim) / (1.4 * head_dim),
                             persistent=False)

    def forward(self, q: torch.Tensor, k: torch.Tensor, offset: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Rotate ``q`` and ``k`` ``[N, heads, S, head_dim]`` at positions ``offset .. offset + S - 1``."""
        positions = torch.arange(q.shape[-2], device=q.device, dtype=q.dtype) + offset
        angles = torch.einsum("s,f->sf", positions, self.freqs).repeat_interleave(2, dim=-1)
        power = (positions - positions.max() // 2) / XPOS_SCALE_BASE
        scale = self.xpos ** power[:, None]
        scale = torch.cat((scale, scale), dim=-1).to(q.dtype)
        cos, sin = angles.cos(), angles.sin()
        rotated_q = q * cos * scale + _rotate_half(q) * sin * scale
        inverse = scale ** -1
        rotated_k = k * cos * inverse + _rotate_half(k) * sin * inverse
        return rotated_q, rotated_k
