"""Moirai-2's building blocks, named and shaped as in uni2ts 2.0.0 so the official tensors load by name.

* ``ResidualBlock``: ``hidden_layer`` → SiLU → ``output_layer``, plus a linear ``residual_layer`` (in/out proj).
* ``EncoderLayer``: pre-norm (RMSNorm ``norm1``/``norm2``) self-attention and gated SiLU feed-forward
  (``ffn.fc_gate``, ``ffn.fc1``, ``ffn.fc2``, no biases).
* ``Attention``: multi-head, RMSNorm on queries and keys per head (``q_norm``/``k_norm``), a learned bias for
  "same variate or not" per head (``var_attn_bias.emb``, 2 x heads), and rotary positions over the token's
  time id on the first half of each head's dimensions (interleaved pairs, base 10000).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

ROPE_BASE = 10000
ROPE_FRACTION = 0.5  # uni2ts' partial_factor (0.0, 0.5): rotate dims [0, head_dim / 2)
NORM_EPS = 1e-5


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = NORM_EPS) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps) * self.weight


class ResidualBlock(nn.Module):
    def __init__(self, input_dims: int, hidden_dims: int, output_dims: int) -> None:
        super().__init__()
        self.hidden_layer = nn.Linear(input_dims, hidden_dims)
        self.output_layer = nn.Linear(hidden_dims, output_dims)
        self.residual_layer = nn.Linear(input_dims, output_dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output_layer(F.silu(self.hidden_layer(x))) + self.residual_layer(x)


class GatedFeedForward(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden, bias=False)
        self.fc2 = nn.Linear(hidden, dim, bias=False)
        self.fc_gate = nn.Linear(dim, hidden, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.silu(self.fc_gate(x)) * self.fc1(x))


class VariateBias(nn.Module):
    """Per head: one learned bias between tokens of the same variate, another between different ones."""

    def __init__(self, num_heads: int) -> None:
        super().__init__()
        self.emb = nn.Embedding(2, num_heads)

    def forward(self, same_variate: torch.Tensor) -> torch.Tensor:
        """``same_variate`` [B, T, T] bool → bias [B, heads, T, T]."""
        other, same = (w.view(1, -1, 1, 1) for w in self.emb.weight)
        return torch.where(same_variate.unsqueeze(1), same, other)


class Rotary:
    """cos/sin tables of interleaved rotary positions, indexed by time id (grown on demand, as uni2ts does)."""

    def __init__(self, width: int) -> None:
        # On the CPU explicitly: the model may be built on the meta device before its weights are loaded.
        steps = torch.arange(0, width, 2, dtype=torch.float, device="cpu")
        self.theta = 1.0 / torch.pow(ROPE_BASE, steps / width)

    def tables(self, time_id: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``time_id`` [B, T] → cos, sin [B, 1, T, width]."""
        positions = torch.arange(int(time_id.max()) + 1, dtype=torch.float, device=time_id.device)
        angles = torch.outer(positions, self.theta.to(time_id.device)).repeat_interleave(2, dim=-1)
        return torch.cos(angles)[time_id].unsqueeze(1), torch.sin(angles)[time_id].unsqueeze(1)

    @staticmethod
    def apply(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        width = cos.shape[-1]
        head, rest = x[..., :width], x[..., width:]
        pairs = head.unflatten(-1, (-1, 2))
        rotated = torch.stack((-pairs[..., 1], pairs[..., 0]), dim=-1).flatten(-2)
        return torch.cat((cos * head + sin * rotated, rest), dim=-1)


class Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.q_proj = nn.Linear(dim, dim, bias=False)
        self.k_proj = nn.Linear(dim, dim, bias=False)
        self.v_proj = nn.Linear(dim, dim, bias=False)
        self.out_proj = nn.Linear(dim, dim, bias=False)
        self.q_norm = RMSNorm(self.head_dim)
        self.k_norm = RMSNorm(self.head_dim)
        self.var_attn_bias = VariateBias(num_heads)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        return x.unflatten(-1, (self.num_heads, self.head_dim)).transpose(1, 2)  # [B, heads, T, head_dim]

    def forward(self, x: torch.Tensor, allowed: torch.Tensor, same_variate: torch.Tensor,
                rope: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        query = Rotary.apply(self.q_norm(self._heads(self.q_proj(x))), *rope)
        key = Rotary.apply(self.k_norm(self._heads(self.k_proj(x))), *rope)
        value = self._heads(self.v_proj(x))
        bias = self.var_attn_bias(same_variate).masked_fill(~allowed.unsqueeze(1), float("-inf"))
        out = F.scaled_dot_product_attention(query, key, value, attn_mask=bias,
                                             scale=1 / math.sqrt(self.head_dim))
        return self.out_proj(out.transpose(1, 2).flatten(-2))


class EncoderLayer(nn.Module):
    def __init__(self, dim: int, num_heads: int, d_ff: int) -> None:
        super().__init__()
        self.self_attn = Attention(dim, num_heads)
        self.ffn = GatedFeedForward(dim, d_ff)
        self.norm1 = RMSNorm(dim)
        self.norm2 = RMSNorm(dim)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor, same_variate: torch.Tensor,
                rope: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x = x + self.self_attn(self.norm1(x), allowed, same_variate, rope)
        return x + self.ffn(self.norm2(x))


class Encoder(nn.Module):
    def __init__(self, dim: int, num_layers: int, num_heads: int, d_ff: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList([EncoderLayer(dim, num_heads, d_ff) for _ in range(num_layers)])
        self.norm = RMSNorm(dim)
        self.rotary = Rotary(int(dim // num_heads * ROPE_FRACTION))

    def forward(self, x: torch.Tensor, sample_id: torch.Tensor, time_id: torch.Tensor,
                variate_id: torch.Tensor) -> torch.Tensor:
        # A token sees the tokens of its own sample at the same or an earlier time (every variate).
        allowed = (sample_id.unsqueeze(-1) == sample_id.unsqueeze(-2)) & (
            time_id.unsqueeze(-2) <= time_id.unsqueeze(-1))
        same_variate = variate_id.unsqueeze(-1) == variate_id.unsqueeze(-2)
        rope = self.rotary.tables(time_id)
        for layer in self.layers:
            x = layer(x, allowed, same_variate, rope)
        return self.norm(x)
