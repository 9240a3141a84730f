"""MOMENT's network on our stack (torch 2.13, transformers 4.56): RevIN → patches of 8 → patch embedding →
T5 encoder (transformers' own ``T5Stack``) → reconstruction head → RevIN inverse.

Module names are the published checkpoint's tensor names (AutonLab/MOMENT-1-large, momentfm 0.1.4)::

    patch_embedding.value_embedding.weight   [d_model, patch_len]   (+ .bias with value_embedding_bias)
    patch_embedding.mask_embedding           [d_model]
    patch_embedding.position_embedding.pe    [1, 5000, d_model]     (with add_positional_embedding)
    encoder.embed_tokens.weight              [vocab, d_model]       (T5's; unused, MOMENT feeds embeddings)
    encoder.block.N.layer.{0,1}...           T5 encoder blocks
    encoder.final_layer_norm.weight          [d_model]
    head.linear.weight / .bias               [patch_len, d_model] / [patch_len]
    normalizer.affine_weight / _bias         [1, 1, 1]              (with revin_affine)

The arithmetic mirrors momentfm's ``MOMENT.reconstruction`` step by step (same statistics, same masking), so
the same weights give the same numbers; dropout layers are left out (inference only).
"""
from __future__ import annotations

import copy
import math

import torch
from torch import nn
from transformers import T5Config
from transformers.models.t5.modeling_t5 import T5Stack

from ainode_plugin_moment.config import MomentSettings

POSITIONS = 5000  # momentfm's PositionalEmbedding(max_len=5000): part of the checkpoint's shapes
REVIN_EPS = 1e-5


class RevIN(nn.Module):
    """Per-series instance normalisation over the observed rows (population std + eps, as momentfm)."""

    def __init__(self, affine: bool) -> None:
        super().__init__()
        self.affine = affine
        if affine:
            self.affine_weight = nn.Parameter(torch.ones(1, 1, 1))
            self.affine_bias = nn.Parameter(torch.zeros(1, 1, 1))

    def statistics(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x [N, C, S], mask [N, S] (1 = use the row) → mean, stdev [N, C, 1]."""
        kept = torch.where(mask.unsqueeze(1).bool(), x, torch.nan)
        mean = torch.nanmean(kept, dim=-1, keepdim=True)
        variance = (kept - mean).square().nanmean(dim=-1, keepdim=True)
        return mean, variance.sqrt() + REVIN_EPS

    def normalize(self, x: torch.Tensor, mean: torch.Tensor, stdev: torch.Tensor) -> torch.Tensor:
        x = (x - mean) / stdev
        return x * self.affine_weight + self.affine_bias if self.affine else x

    def denormalize(self, x: torch.Tensor, mean: torch.Tensor, stdev: torch.Tensor) -> torch.Tensor:
        if self.affine:
            x = (x - self.affine_bias) / (self.affine_weight + REVIN_EPS * REVIN_EPS)
        return x * stdev + mean


class PositionalEmbedding(nn.Module):
    """The fixed sinusoidal table momentfm stores as a (persistent) buffer ``pe``."""

    def __init__(self, d_model: int, max_len: int = POSITIONS) -> None:
        super().__init__()
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len).float().unsqueeze(1)
        div_term = (torch.arange(0, d_model, 2).float() * -(math.log(10000.0) / d_model)).exp()
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe.unsqueeze(0))

    def forward(self, n_patches: int) -> torch.Tensor:
        return self.pe[:, :n_patches]


class PatchEmbedding(nn.Module):
    """A patch of ``patch_len`` values → ``d_model``; a masked patch becomes the learned mask token."""

    def __init__(self, settings: MomentSettings) -> None:
        super().__init__()
        self.value_embedding = nn.Linear(settings.patch_len, settings.d_model, bias=settings.value_embedding_bias)
        self.mask_embedding = nn.Parameter(torch.zeros(settings.d_model))
        self.position_embedding = PositionalEmbedding(settings.d_model) if settings.add_positional_embedding \
            else None

    def forward(self, patches: torch.Tensor, patch_mask: torch.Tensor) -> torch.Tensor:
        """patches [N, C, P, patch_len], patch_mask [N, P] (1 = observed) → [N, C, P, d_model]."""
        keep = patch_mask[:, None, :, None].bool()
        embedded = torch.where(keep, self.value_embedding(patches), self.mask_embedding)
        if self.position_embedding is not None:
            embedded = embedded + self.position_embedding(patches.shape[2])
        return embedded


class PretrainHead(nn.Module):
    """The pre-trained reconstruction head: one linear map per patch back to ``patch_len`` values."""

    def __init__(self, settings: MomentSettings) -> None:
        super().__init__()
        self.linear = nn.Linear(settings.d_model, settings.patch_len)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.linear(hidden).flatten(start_dim=2, end_dim=3)  # [N, C, P * patch_len]


def encoder_config(settings: MomentSettings) -> T5Config:
    """``t5_config`` as an encoder-only stack, as ``T5EncoderModel`` builds it."""
    config = T5Config(**copy.deepcopy(dict(settings.t5_config)))
    config.is_decoder = False
    config.use_cache = False
    config.is_encoder_decoder = False
    return config


class MomentReconstruction(nn.Module):
    """MOMENT with its pre-trained head. ``forward(x, input_mask, mask)`` returns the reconstruction."""

    def __init__(self, settings: MomentSettings) -> None:
        super().__init__()
        self.settings = settings
        self.patch_len = settings.patch_len
        self.normalizer = RevIN(settings.revin_affine)
        self.patch_embedding = PatchEmbedding(settings)
        config = encoder_config(settings)
        self.encoder = T5Stack(config, nn.Embedding(config.vocab_size, config.d_model))
        self.head = PretrainHead(settings)

    def patch_view(self, mask: torch.Tensor) -> torch.Tensor:
        """[N, S] row mask → [N, S / patch_len]: 1 where every row of the patch is 1 (momentfm's rule)."""
        return (mask.unfold(-1, self.patch_len, self.patch_len).sum(dim=-1) == self.patch_len).long()

    def forward(self, x: torch.Tensor, input_mask: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x [N, C, S] (NaN allowed where ``mask`` is 0), input_mask [N, S] (0 = left padding), mask [N, S]
        (0 = hidden from the model, to be reconstructed) → reconstruction [N, C, S] in the input's scale."""
        n, channels, _ = x.shape
        mean, stdev = self.normalizer.statistics(x, mask * input_mask)
        normed = torch.nan_to_num(self.normalizer.normalize(x, mean, stdev), nan=0.0, posinf=0.0, neginf=0.0)
        patches = normed.unfold(-1, self.patch_len, self.patch_len)  # [N, C, P, patch_len]
        embedded = self.patch_embedding(patches, self.patch_view(mask))
        n_patches = embedded.shape[2]
        attention = self.patch_view(input_mask).repeat_interleave(channels, dim=0)
        hidden = self.encoder(inputs_embeds=embedded.reshape(n * channels, n_patches, -1),
                              attention_mask=attention, return_dict=True).last_hidden_state
        out = self.head(hidden.reshape(n, channels, n_patches, -1))
        return self.normalizer.denormalize(out, mean, stdev)
