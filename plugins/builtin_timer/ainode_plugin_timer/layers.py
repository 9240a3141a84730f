"""Decoder pieces Timer-XL and Sundial share: rotary positions, causal self-attention with a KV cache,
the gated (SwiGLU) feed-forward block and one decoder layer.

Module and parameter names (``self_attn.q_proj``, ``ffn_layer.gate_proj``, ``norm1`` ...) are those of the
official checkpoints, so ``model.safetensors`` files load unchanged. The two models differ only in where the
layer norms sit: Timer-XL normalises after each residual add (post-norm), Sundial before each block (pre-norm).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from transformers.activations import ACT2FN
from transformers.cache_utils import Cache


def rotary_cos_sin(
    positions: torch.Tensor, head_dim: int, theta: float, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin tables for ``positions`` [B, T], shaped [B, 1, T, head_dim] to broadcast over heads.

    Computed per call from the positions in use instead of a 10k-row cached table: it is a handful of
    multiplications, needs no buffer (so meta-device loading works) and gives the same float32 values as
    the original's cached table (one multiply per entry either way).
    """
    exponent = torch.arange(0, head_dim, 2, dtype=torch.int64, device=positions.device).float() / head_dim
    inv_freq = 1.0 / (theta**exponent)
    freqs = positions.to(torch.float32)[..., None] * inv_freq
    angles = torch.cat((freqs, freqs), dim=-1)
    return angles.cos().to(dtype)[:, None], angles.sin().to(dtype)[:, None]


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    return x * cos + _rotate_half(x) * sin


def attention_mask_for(
    key_valid: torch.Tensor | None, query_len: int, past_len: int
) -> tuple[torch.Tensor | None, bool]:
    """The mask for ``query_len`` new tokens after ``past_len`` cached ones: ``(mask, is_causal)``.

    ``key_valid`` [B, past_len + query_len] marks real tokens (False = left padding) or is None when every
    row is real. Without padding the cheap paths are used (SDPA's own causal mask for a prompt, no mask for
    a single new token). With padding, real queries never see padded keys; a padded query sees itself only,
    so its softmax row is never empty (an empty row is NaN, and NaN values poison later matmuls even at
    weight 0).
    """
    if key_valid is None:
        if query_len == 1:
            return None, False
        if past_len == 0:
            return None, True
    key_len = past_len + query_len
    device = key_valid.device if key_valid is not None else None
    query_pos = torch.arange(past_len, key_len, device=device)
    key_pos = torch.arange(key_len, device=device)
    allowed = key_pos[None, :] <= query_pos[:, None]  # [Tq, Tk]
    if key_valid is None:
        return allowed[None, None], False
    diagonal = key_pos[None, :] == query_pos[:, None]
    allowed = (allowed[None] & key_valid[:, None, :]) | diagonal[None]
    return allowed[:, None], False


class SelfAttention(nn.Module):
    def __init__(self, hidden_size: int, num_heads: int, dropout: float, layer_idx: int) -> None:
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(f"hidden_size {hidden_size} is not divisible by num_attention_heads {num_heads}")
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.dropout = dropout
        self.layer_idx = layer_idx
        self.q_proj = nn.Linear(hidden_size, hidden_size, bias=True)
        self.k_proj = nn.Linear(hidden_size, hidden_size, bias=True)
        self.v_proj = nn.Linear(hidden_size, hidden_size, bias=True)
        self.o_proj = nn.Linear(hidden_size, hidden_size, bias=False)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, _ = x.shape
        return x.view(batch, length, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(
        self,
        hidden: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        mask: torch.Tensor | None,
        is_causal: bool,
        cache: Cache | None,
    ) -> torch.Tensor:
        batch, length, width = hidden.shape
        query = apply_rotary(self._heads(self.q_proj(hidden)), cos, sin)
        key = apply_rotary(self._heads(self.k_proj(hidden)), cos, sin)
        value = self._heads(self.v_proj(hidden))
        if cache is not None:
            key, value = cache.update(key, value, self.layer_idx)
        out = F.scaled_dot_product_attention(
            query, key, value, attn_mask=mask, is_causal=is_causal,
            dropout_p=self.dropout if self.training else 0.0,
        )
        return self.o_proj(out.transpose(1, 2).reshape(batch, length, width))


class GatedMLP(nn.Module):
    """down(act(gate(x)) * up(x)), no biases."""

    def __init__(self, hidden_size: int, intermediate_size: int, hidden_act: str) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(hidden_size, intermediate_size, bias=False)
        self.up_proj = nn.Linear(hidden_size, intermediate_size, bias=False)
        self.down_proj = nn.Linear(intermediate_size, hidden_size, bias=False)
        self.act_fn = ACT2FN[hidden_act]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(
        self,
        hidden_size: int,
        num_heads: int,
        intermediate_size: int,
        hidden_act: str,
        attention_dropout: float,
        layer_idx: int,
        pre_norm: bool,
    ) -> None:
        super().__init__()
        self.pre_norm = pre_norm
        self.self_attn = SelfAttention(hidden_size, num_heads, attention_dropout, layer_idx)
        self.ffn_layer = GatedMLP(hidden_size, intermediate_size, hidden_act)
        self.norm1 = nn.LayerNorm(hidden_size)
        self.norm2 = nn.LayerNorm(hidden_size)

    def forward(
        self,
        hidden: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        mask: torch.Tensor | None,
        is_causal: bool,
        cache: Cache | None,
    ) -> torch.Tensor:
        if self.pre_norm:  # Sundial
            hidden = hidden + self.self_attn(self.norm1(hidden), cos, sin, mask, is_causal, cache)
            return hidden + self.ffn_layer(self.norm2(hidden))
        # Timer-XL: post-norm, as in the original
        hidden = self.norm1(hidden + self.self_attn(hidden, cos, sin, mask, is_causal, cache))
        return self.norm2(hidden + self.ffn_layer(hidden))


def positions_from_mask(attention_mask: torch.Tensor, query_len: int) -> torch.Tensor:
    """Positions of the last ``query_len`` tokens: real tokens count from 0, padding sits at 0."""
    positions = attention_mask.long().cumsum(-1) - 1
    return positions.clamp_(min=0)[:, -query_len:]


def run_decoder(
    layers: nn.ModuleList,
    final_norm: nn.Module,
    hidden: torch.Tensor,
    *,
    attention_mask: torch.Tensor | None,
    position_ids: torch.Tensor | None,
    cache: Cache | None,
    head_dim: int,
    rope_theta: float,
) -> torch.Tensor:
    """Embedded tokens [B, T, D] → final hidden states, appending to ``cache`` when given.

    ``attention_mask`` [B, past + T] follows transformers' convention (1 = real token, 0 = left padding,
    covering the cached tokens too); None means no padding.
    """
    batch, query_len, _ = hidden.shape
    past_len = cache.get_seq_length() if cache is not None else 0
    key_valid = None
    if attention_mask is not None and not bool(attention_mask.all()):
        key_valid = attention_mask.bool()
    if position_ids is None:
        if key_valid is not None:
            position_ids = positions_from_mask(key_valid, query_len)
        else:
            position_ids = torch.arange(past_len, past_len + query_len, device=hidden.device)
            position_ids = position_ids[None].expand(batch, -1)
    cos, sin = rotary_cos_sin(position_ids, head_dim, rope_theta, hidden.dtype)
    mask, is_causal = attention_mask_for(key_valid, query_len, past_len)
    for layer in layers:
        hidden = layer(hidden, cos, sin, mask, is_causal, cache)
    return final_norm(hidden)


def init_weights(module: nn.Module, std: float) -> None:
    """The original checkpoints' initialisation: normal linear weights, zero biases, unit LayerNorms."""
    if isinstance(module, nn.Linear):
        module.weight.data.normal_(mean=0.0, std=std)
        if module.bias is not None:
            module.bias.data.zero_()
    elif isinstance(module, nn.LayerNorm) and module.weight is not None:
        module.weight.data.fill_(1.0)
        module.bias.data.zero_()
