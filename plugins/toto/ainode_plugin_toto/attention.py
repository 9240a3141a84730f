"""Toto's two attention kinds over ``[batch, variates, tokens, embed]`` (toto-ts ``attention.py``).

* time-wise: causal attention along the patch tokens of each variate, rotary/xPos positions, KV cache;
* space-wise: full attention across the variates of one time step (no positions, no cache).

The fused projection splits its output as ``(qkv, head_dim, heads)`` — heads vary fastest — as the published
``wQKV`` weights were trained; the output re-joins heads the usual way ``(heads, head_dim)``. Variates of one
batch row always form one group here (the pipeline never packs several inputs into a row), so space-wise
attention needs no block mask.
"""
from __future__ import annotations

import torch
from torch.nn.functional import scaled_dot_product_attention

from ainode_plugin_toto.kvcache import LayerCache
from ainode_plugin_toto.rope import XPosRotary


class TotoAttention(torch.nn.Module):
    def __init__(self, embed_dim: int, num_heads: int, time_wise: bool) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.time_wise = time_wise
        self.wQKV = torch.nn.Linear(embed_dim, 3 * embed_dim)
        self.wO = torch.nn.Linear(embed_dim, embed_dim)

    def _qkv(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``[N, L, embed]`` → q, k, v ``[N, heads, L, head_dim]``."""
        qkv = self.wQKV(rows).unflatten(-1, (3, self.head_dim, self.num_heads))
        # one copy into [3, N, heads, L, head_dim]: strided heads would slow every later op (and SDPA)
        q, k, v = qkv.permute(2, 0, 4, 1, 3).contiguous().unbind(0)
        return q, k, v

    def forward(self, x: torch.Tensor, rotary: XPosRotary, cache: LayerCache | None) -> torch.Tensor:
        batch, variates, tokens, embed = x.shape
        if self.time_wise:
            q, k, v = self._qkv(x.reshape(batch * variates, tokens, embed))
            offset = cache.length if cache is not None else 0
            q, k = rotary(q, k, offset)
            if cache is not None:
                k, v = cache.append(k, v)
            # the first call sees the whole context (causal); a decoding step is the newest token, which
            # may look at everything before it
            out = scaled_dot_product_attention(q, k, v, is_causal=offset == 0)
            out = out.transpose(1, 2).reshape(batch, variates, tokens, embed)
        else:
            q, k, v = self._qkv(x.transpose(1, 2).reshape(batch * tokens, variates, embed))
            out = scaled_dot_product_attention(q, k, v)
            out = out.reshape(batch, tokens, self.num_heads, variates, self.head_dim)
            out = out.permute(0, 3, 1, 2, 4).reshape(batch, variates, tokens, embed)
        return self.wO(out)
