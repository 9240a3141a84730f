"""Sundial (thuml/sundial-base-128m): a pre-norm decoder-only transformer over 16-point patches with a
TimeFlow head that samples whole 720-point continuations.

Parameter names follow the official checkpoint (``model.embed_layer.hidden_layer``, ``model.layers.N``,
``flow_loss.net...``), so its ``model.safetensors`` loads unchanged.

``generate`` is the original's procedure: RevIN with the context's mean and (biased) std + 1e-5, left-pad
to whole patches with a value/mask embedding, sample ``num_samples`` continuations of one output patch,
and for longer horizons feed back the per-step median of the samples as the next tokens (KV cache), each
step drawing fresh samples. Batches may mix lengths: shorter rows get whole padding patches masked out of
attention on top of the original's partial first patch, so each row gets what it would get alone.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import DynamicCache, PreTrainedModel
from transformers.activations import ACT2FN
from transformers.modeling_outputs import BaseModelOutputWithPast
from transformers.utils import ModelOutput

from ainode_plugin_timer.layers import DecoderLayer, init_weights, run_decoder
from ainode_plugin_timer.sundial.configuration import SundialConfig
from ainode_plugin_timer.sundial.flow import FlowHead


class SundialPatchEmbedding(nn.Module):
    """Each patch is embedded from its values and its observed-mask (2 x 16 inputs) by a residual MLP."""

    def __init__(self, config: SundialConfig) -> None:
        super().__init__()
        self.patch_len = config.input_token_len
        self.dropout = nn.Dropout(config.dropout_rate)
        self.hidden_layer = nn.Linear(config.input_token_len * 2, config.intermediate_size)
        self.act = ACT2FN[config.hidden_act]
        self.output_layer = nn.Linear(config.intermediate_size, config.hidden_size)
        self.residual_layer = nn.Linear(config.input_token_len * 2, config.hidden_size)

    def forward(self, values: torch.Tensor, point_mask: torch.Tensor | None = None) -> torch.Tensor:
        """values [B, L] (and mask [B, L], 1 = observed) → [B, ceil(L / patch), hidden]; a partial first
        patch is left-padded with unobserved zeros."""
        if point_mask is None:
            point_mask = torch.ones_like(values)
        padding = -values.shape[-1] % self.patch_len
        values = F.pad(values, (padding, 0)).unfold(-1, self.patch_len, self.patch_len)
        point_mask = F.pad(point_mask.to(values.dtype), (padding, 0)).unfold(-1, self.patch_len, self.patch_len)
        features = torch.cat([values, point_mask], dim=-1)
        hidden = self.dropout(self.output_layer(self.act(self.hidden_layer(features))))
        return hidden + self.residual_layer(features)


class SundialPreTrainedModel(PreTrainedModel):
    config_class = SundialConfig
    base_model_prefix = "model"
    supports_gradient_checkpointing = False
    _no_split_modules = ["DecoderLayer"]

    def _init_weights(self, module: nn.Module) -> None:
        init_weights(module, self.config.initializer_range)


class SundialModel(SundialPreTrainedModel):
    def __init__(self, config: SundialConfig) -> None:
        super().__init__(config)
        self.embed_layer = SundialPatchEmbedding(config)
        self.layers = nn.ModuleList(
            DecoderLayer(config.hidden_size, config.num_attention_heads, config.intermediate_size,
                         config.hidden_act, config.dropout_rate, index, pre_norm=True)
            for index in range(config.num_hidden_layers)
        )
        self.norm = nn.LayerNorm(config.hidden_size)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor,
        point_mask: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        past_key_values: DynamicCache | None = None,
        use_cache: bool = False,
    ) -> BaseModelOutputWithPast:
        """``input_ids`` are values [B, L]; ``point_mask`` marks observed values; ``attention_mask`` is
        per patch, covering the cached patches too (1 = real, 0 = padding patch)."""
        if use_cache and past_key_values is None:
            past_key_values = DynamicCache()
        hidden = run_decoder(
            self.layers, self.norm, self.embed_layer(input_ids, point_mask),
            attention_mask=attention_mask, position_ids=position_ids,
            cache=past_key_values if use_cache else None,
            head_dim=self.config.hidden_size // self.config.num_attention_heads,
            rope_theta=self.config.rope_theta,
        )
        return BaseModelOutputWithPast(last_hidden_state=hidden, past_key_values=past_key_values)


@dataclass
class SundialOutput(ModelOutput):
    loss: torch.Tensor | None = None
    last_hidden_state: torch.Tensor | None = None
    past_key_values: DynamicCache | None = None


class SundialForPrediction(SundialPreTrainedModel):
    def __init__(self, config: SundialConfig) -> None:
        super().__init__(config)
        self.model = SundialModel(config)
        self.flow_loss = FlowHead(config.output_token_lens[-1], config.hidden_size, config.flow_loss_depth,
                                  config.hidden_size)
        self.post_init()

    @property
    def output_patch_len(self) -> int:
        return self.config.output_token_lens[-1]

    def forward(
        self,
        input_ids: torch.Tensor,
        point_mask: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        past_key_values: DynamicCache | None = None,
        use_cache: bool = False,
        labels: torch.Tensor | None = None,
        loss_masks: torch.Tensor | None = None,
        mask_y: torch.Tensor | None = None,
    ) -> SundialOutput:
        """Hidden states, and with ``labels`` (the series shifted by one patch, as for Timer-XL) the
        original's TimeFlow training loss; ``loss_masks`` [B, N] and ``mask_y`` [B, out] are required
        then, as in the original."""
        outputs = self.model(input_ids, point_mask, attention_mask, position_ids, past_key_values, use_cache)
        hidden = outputs.last_hidden_state
        loss = None
        if labels is not None:
            patch, out_len = self.config.input_token_len, self.output_patch_len
            repeat = self.config.diffusion_batch_mul
            targets = labels[:, : hidden.shape[1] * patch - patch + out_len].unfold(-1, out_len, patch)
            batch, tokens, _ = targets.shape
            loss = self.flow_loss.training_loss(
                targets.reshape(batch * tokens, -1).repeat(repeat, 1),
                hidden.reshape(batch * tokens, -1).repeat(repeat, 1),
                loss_masks.reshape(batch * tokens).repeat(repeat),
                mask_y.repeat(tokens * repeat, 1),
            )
        return SundialOutput(loss=loss, last_hidden_state=hidden, past_key_values=outputs.past_key_values)

    @torch.inference_mode()
    def generate(
        self,
        inputs: torch.Tensor,
        max_new_tokens: int,
        num_samples: int = 1,
        revin: bool = True,
        num_sampling_steps: int | None = None,
        attention_mask: torch.Tensor | None = None,
        generators: list[torch.Generator] | None = None,
    ) -> torch.Tensor:
        """Sample continuations of each row of ``inputs`` [B, L] → [B, num_samples, max_new_tokens].

        ``attention_mask`` [B, L] marks the real points of right-aligned, left-padded rows (None = all
        real). ``generators`` (one per row) make each row's samples reproducible on their own; without
        them the global RNG is used exactly as the original does.
        """
        patch = self.config.input_token_len
        steps = num_sampling_steps or self.config.num_sampling_steps
        values = inputs.to(device=self.device, dtype=torch.float32)
        if values.dim() != 2:
            raise ValueError(f"inputs must be [batch, length], got {list(values.shape)}")
        point_mask = patch_mask = None
        if attention_mask is not None and not bool(attention_mask.all()):
            point_mask = attention_mask.to(device=self.device, dtype=torch.float32)
            width = -(-values.shape[1] // patch) * patch
            point_mask = F.pad(point_mask, (width - values.shape[1], 0))
            values = F.pad(values, (width - values.shape[1], 0))
            patch_mask = point_mask.unfold(-1, patch, patch).amax(-1).long()  # a patch with any observed point

        if revin:
            mean, std = _context_stats(values, point_mask)
            values = (values - mean) / std
        if point_mask is not None:
            values = values * point_mask

        cache = DynamicCache()
        pieces: list[torch.Tensor] = []
        remaining = max_new_tokens
        tokens, token_mask = values, point_mask
        while remaining > 0:
            hidden = self.model(tokens, token_mask, patch_mask, past_key_values=cache, use_cache=True)
            samples = self.flow_loss.sample(hidden.last_hidden_state[:, -1], num_samples, steps, generators)
            pieces.append(samples[..., :remaining])
            remaining -= min(samples.shape[-1], remaining)
            if remaining == 0:
                break
            if samples.shape[-1] % patch:
                raise ValueError(
                    f"cannot forecast beyond {max_new_tokens - remaining} points: output length "
                    f"{samples.shape[-1]} is not a multiple of the patch length {patch}"
                )
            tokens, token_mask = samples.median(dim=1).values, None
            if patch_mask is not None:
                new_patches = patch_mask.new_ones(len(patch_mask), tokens.shape[-1] // patch)
                patch_mask = torch.cat([patch_mask, new_patches], dim=-1)
        forecast = torch.cat(pieces, dim=-1)
        if revin:
            forecast = forecast * std[:, None] + mean[:, None]
        return forecast


def _context_stats(values: torch.Tensor, point_mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and biased std + 1e-5 per row over the observed points (the original's RevIN)."""
    if point_mask is None:
        return values.mean(dim=-1, keepdim=True), values.std(dim=-1, keepdim=True, unbiased=False) + 1e-5
    count = point_mask.sum(-1, keepdim=True)
    mean = (values * point_mask).sum(-1, keepdim=True) / count
    variance = (((values - mean) * point_mask) ** 2).sum(-1, keepdim=True) / count
    return mean, variance.sqrt() + 1e-5
