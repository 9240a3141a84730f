"""Toto (Datadog's Time-Series-Optimized Transformer for Observability) on transformers / torch.

The module tree reproduces the published tensor names of ``Datadog/Toto-Open-Base-1.0`` exactly, so its
``model.safetensors`` loads strictly without renaming (see :mod:`ainode_plugin_toto.loading`)::

    model.patch_embed.projection            patch (P values) -> embedding
    model.transformer.layers.N.norm1/norm2  RMSNorm ``scale``
    model.transformer.layers.N.attention    wQKV, wO (time-wise or space-wise, see attention.py)
    model.transformer.layers.N.mlp.0        SwiGLU ``w12`` / ``w3`` (xFormers' fused layout, as trained)
    model.unembed                           last token -> P step embeddings
    model.output_distribution               df / loc_proj / scale_proj / mixture_weights

The backbone only ever computes what decoding needs: the context's tokens fill the KV cache and only the
newest token is un-embedded (toto-ts un-embeds every context token and throws all but the last away).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from transformers import PreTrainedModel

from ainode_plugin_toto.attention import TotoAttention
from ainode_plugin_toto.configuration import TotoConfig
from ainode_plugin_toto.distribution import Mixture, StudentTMixtureHead
from ainode_plugin_toto.kvcache import LayerCache, allocate
from ainode_plugin_toto.rope import XPosRotary
from ainode_plugin_toto.scaler import CausalPatchScaler


class RMSNorm(torch.nn.Module):
    def __init__(self, dim: int, eps: float = 1e-8) -> None:
        super().__init__()
        self.eps = eps
        self.scale = torch.nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / torch.sqrt(torch.mean(x * x, dim=-1, keepdim=True) + self.eps) * self.scale


class SwiGLU(torch.nn.Module):
    def __init__(self, embed_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.w12 = torch.nn.Linear(embed_dim, 2 * hidden_dim)
        self.w3 = torch.nn.Linear(hidden_dim, embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, value = self.w12(x).chunk(2, dim=-1)
        return self.w3(F.silu(gate) * value)


class TransformerLayer(torch.nn.Module):
    """Pre-norm block: attention then SwiGLU, each added to the residual."""

    def __init__(self, config: TotoConfig, time_wise: bool) -> None:
        super().__init__()
        self.norm1 = RMSNorm(config.embed_dim)
        self.norm2 = RMSNorm(config.embed_dim)
        self.attention = TotoAttention(config.embed_dim, config.num_heads, time_wise)
        self.mlp = torch.nn.Sequential(SwiGLU(config.embed_dim, config.mlp_hidden_dim))

    def forward(self, x: torch.Tensor, rotary: XPosRotary, cache: LayerCache | None) -> torch.Tensor:
        hidden = x + self.attention(self.norm1(x), rotary, cache)
        return hidden + self.mlp(self.norm2(hidden))


class PatchEmbedding(torch.nn.Module):
    def __init__(self, patch_size: int, embed_dim: int) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.projection = torch.nn.Linear(patch_size, embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, V, T]`` (T a multiple of the patch size) → ``[B, V, T / P, embed]``."""
        return self.projection(x.unflatten(-1, (-1, self.patch_size)))


class Transformer(torch.nn.Module):
    def __init__(self, config: TotoConfig) -> None:
        super().__init__()
        self.rotary_emb = XPosRotary(config.head_dim)
        self.layers = torch.nn.ModuleList(TransformerLayer(config, time_wise)
                                          for time_wise in config.time_wise_layers())

    def time_wise_count(self) -> int:
        return sum(layer.attention.time_wise for layer in self.layers)

    def forward(self, x: torch.Tensor, caches: list[LayerCache] | None) -> torch.Tensor:
        time_caches = iter(caches or [])
        for layer in self.layers:
            cache = next(time_caches, None) if layer.attention.time_wise else None
            x = layer(x, self.rotary_emb, cache)
        return x


class TotoBackbone(torch.nn.Module):
    def __init__(self, config: TotoConfig) -> None:
        super().__init__()
        self.config = config
        self.patch_size = config.patch_size
        self.scaler = CausalPatchScaler(config.patch_size, config.stabilize_with_global,
                                        config.scale_factor_exponent)
        self.patch_embed = PatchEmbedding(config.patch_size, config.embed_dim)
        self.transformer = Transformer(config)
        self.unembed = torch.nn.Linear(config.embed_dim, config.embed_dim * config.patch_size)
        self.output_distribution = StudentTMixtureHead(config.embed_dim, config.k_components)

    def allocate_cache(self, rows: int, tokens: int) -> list[LayerCache]:
        """Room for ``tokens`` patch tokens of ``rows`` series (batch x variates) in every time-wise layer."""
        weight = self.unembed.weight
        return allocate(self.transformer.time_wise_count(), rows, self.config.num_heads, self.config.head_dim,
                        tokens, weight.device, weight.dtype)

    def encode(self, scaled: torch.Tensor, caches: list[LayerCache]) -> torch.Tensor:
        """Run the scaled patches ``[B, V, T]`` that follow the cached ones; return the newest token ``[B, V, D]``."""
        return self.transformer(self.patch_embed(scaled), caches)[:, :, -1]

    def head(self, newest: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor) -> Mixture:
        """The next patch's distribution from the newest token ``[B, V, D]`` and that patch's loc/scale
        ``[B, V, P]``; parameters ``[B, V, P, K]``."""
        steps = self.unembed(newest).unflatten(-1, (self.patch_size, -1))  # (patch, embed), as trained
        return self.output_distribution(steps, loc, scale)


class TotoPreTrainedModel(PreTrainedModel):
    config_class = TotoConfig
    base_model_prefix = "model"
    supports_gradient_checkpointing = False
    _no_split_modules = ["TransformerLayer"]

    def _init_weights(self, module: torch.nn.Module) -> None:
        pass  # weights always come from a checkpoint (loading.py refuses any that is incomplete)


class TotoForPrediction(TotoPreTrainedModel):
    """``self.model`` is the backbone, so the checkpoint's ``model.*`` names map onto it unchanged."""

    def __init__(self, config: TotoConfig) -> None:
        super().__init__(config)
        self.model = TotoBackbone(config)
        self.post_init()
