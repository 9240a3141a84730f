"""Timer-XL (thuml/timer-base-84m): a decoder-only, post-norm transformer over 96-point patches.

Parameter names follow the official checkpoint (``model.embed_layer.emb``, ``model.layers.N.self_attn``,
``lm_heads.K``), so its ``model.safetensors`` loads unchanged.

``generate`` forecasts autoregressively by output patches: the prompt is encoded once into a KV cache and
each predicted patch is fed back as one new token.

* RevIN, by default, is the original's (and so what IoTDB's AINode answers): the context is normalised by
  its own mean/std, and every fed-back patch by ITS own mean/std (the original's ``revin`` sits inside
  ``forward`` and, with the KV cache, only sees the new tokens); each predicted patch is de-normalised with
  the statistics of the tokens that produced it. ``revin_statistics="context"`` instead keeps the context's
  statistics for the whole forecast, so generated tokens stay on the cached context's scale. Both agree
  within one output patch. A constant context or patch (std 0, NaN in the original) is scaled by 1.
* Batches may mix lengths: rows are left-padded by whole patches, padding is masked out of attention and
  positions count from each row's first real patch, so each row gets what it would get alone.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import DynamicCache, PreTrainedModel
from transformers.modeling_outputs import BaseModelOutputWithPast
from transformers.utils import ModelOutput

from ainode_plugin_timer.layers import DecoderLayer, init_weights, run_decoder
from ainode_plugin_timer.timer.configuration import TimerConfig


class TimerPatchEmbedding(nn.Module):
    def __init__(self, config: TimerConfig) -> None:
        super().__init__()
        self.patch_len = config.input_token_len
        self.emb = nn.Linear(config.input_token_len, config.hidden_size, bias=False)

    def forward(self, values: torch.Tensor) -> torch.Tensor:
        """[B, N * patch_len] → [B, N, hidden]."""
        return self.emb(values.unfold(-1, self.patch_len, self.patch_len))


class TimerPreTrainedModel(PreTrainedModel):
    config_class = TimerConfig
    base_model_prefix = "model"
    supports_gradient_checkpointing = False
    _no_split_modules = ["DecoderLayer"]

    def _init_weights(self, module: nn.Module) -> None:
        init_weights(module, self.config.initializer_range)


class TimerModel(TimerPreTrainedModel):
    def __init__(self, config: TimerConfig) -> None:
        super().__init__(config)
        self.embed_layer = TimerPatchEmbedding(config)
        self.layers = nn.ModuleList(
            DecoderLayer(config.hidden_size, config.num_attention_heads, config.intermediate_size,
                         config.hidden_act, config.attention_dropout, index, pre_norm=False)
            for index in range(config.num_hidden_layers)
        )
        self.norm = nn.LayerNorm(config.hidden_size)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        past_key_values: DynamicCache | None = None,
        use_cache: bool = False,
    ) -> BaseModelOutputWithPast:
        """``input_ids`` are values [B, N * patch_len]; ``attention_mask`` is per patch, covering the
        cached patches too (1 = real, 0 = left padding)."""
        if use_cache and past_key_values is None:
            past_key_values = DynamicCache()
        hidden = run_decoder(
            self.layers, self.norm, self.embed_layer(input_ids),
            attention_mask=attention_mask, position_ids=position_ids,
            cache=past_key_values if use_cache else None,
            head_dim=self.config.hidden_size // self.config.num_attention_heads,
            rope_theta=self.config.rope_theta,
        )
        return BaseModelOutputWithPast(last_hidden_state=hidden, past_key_values=past_key_values)


@dataclass
class TimerOutput(ModelOutput):
    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    past_key_values: DynamicCache | None = None


class TimerForPrediction(TimerPreTrainedModel):
    def __init__(self, config: TimerConfig) -> None:
        super().__init__(config)
        lengths = list(config.output_token_lens)
        if not lengths or lengths != sorted(lengths):
            raise ValueError(f"output_token_lens must be a non-empty ascending list, got {lengths}")
        self.model = TimerModel(config)
        self.lm_heads = nn.ModuleList(nn.Linear(config.hidden_size, length, bias=False) for length in lengths)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        past_key_values: DynamicCache | None = None,
        use_cache: bool = False,
        labels: torch.Tensor | None = None,
        loss_masks: torch.Tensor | None = None,
    ) -> TimerOutput:
        """Per-token predictions of the first head, ``logits`` [B, N, output_token_lens[0]].

        With ``labels`` [B, >= N * patch_len - patch_len + max(output_token_lens)] (the series shifted by
        one patch: token i predicts ``labels[i*P : i*P + len]``) the loss is every head's MSE, averaged
        over heads, weighted per token by ``loss_masks`` [B, N] when given (the original's training loss).
        """
        outputs = self.model(input_ids, attention_mask, position_ids, past_key_values, use_cache)
        hidden = outputs.last_hidden_state
        logits = self.lm_heads[0](hidden)
        loss = None
        if labels is not None:
            patch = self.config.input_token_len
            losses = []
            for head, length in zip(self.lm_heads, self.config.output_token_lens):
                target = labels[:, : hidden.shape[1] * patch - patch + length].unfold(-1, length, patch)
                per_token = ((head(hidden) - target) ** 2).mean(dim=-1)
                if loss_masks is not None:
                    losses.append((per_token * loss_masks).sum() / loss_masks.sum())
                else:
                    losses.append(per_token.mean())
            loss = torch.stack(losses).mean()
        return TimerOutput(loss=loss, logits=logits, past_key_values=outputs.past_key_values)

    def _head_for(self, remaining: int) -> int:
        """The original's choice: the longest head not exceeding what is left, else the shortest."""
        chosen = 0
        for index, length in enumerate(self.config.output_token_lens[1:], start=1):
            if length > remaining:
                break
            chosen = index
        return chosen

    @torch.inference_mode()
    def generate(
        self,
        inputs: torch.Tensor,
        max_new_tokens: int,
        revin: bool = True,
        attention_mask: torch.Tensor | None = None,
        revin_statistics: str = "patch",
    ) -> torch.Tensor:
        """Forecast ``max_new_tokens`` points after each row of ``inputs`` [B, L] → [B, max_new_tokens].

        ``attention_mask`` [B, L] marks real points (1) of right-aligned, left-padded rows. Each row keeps
        its newest multiple of the patch length, as the original does; a row shorter than one patch is an
        error. ``revin_statistics``: ``"patch"`` (the original's) or ``"context"`` (see the module doc).
        """
        if revin_statistics not in ("patch", "context"):
            raise ValueError(f"revin_statistics must be 'patch' or 'context', got {revin_statistics!r}")
        patch = self.config.input_token_len
        inputs = inputs.to(device=self.device, dtype=torch.float32)
        if inputs.dim() != 2:
            raise ValueError(f"inputs must be [batch, length], got {list(inputs.shape)}")
        lengths = (attention_mask.to(self.device).sum(-1).long() if attention_mask is not None
                   else torch.full((inputs.shape[0],), inputs.shape[1], device=self.device))
        usable = (lengths // patch) * patch
        if bool((usable == 0).any()):
            raise ValueError(f"every series needs at least {patch} points (one patch)")
        width = int(usable.max())
        values = inputs[:, -width:]
        padded = bool((usable != width).any())
        point_valid = None
        if padded:
            point_valid = torch.arange(width, device=self.device)[None, :] >= (width - usable)[:, None]

        mean = std = None
        if revin:
            mean, std = _context_stats(values, point_valid, usable)
            values = (values - mean) / std
        if point_valid is not None:
            values = values * point_valid
            patch_mask = point_valid[:, patch - 1::patch].long()  # a patch is real iff its last point is
        else:
            patch_mask = None

        cache = DynamicCache()
        pieces: list[torch.Tensor] = []
        remaining = max_new_tokens
        tokens = values
        while remaining > 0:
            hidden = self.model(tokens, attention_mask=patch_mask, past_key_values=cache, use_cache=True)
            head = self._head_for(remaining)
            prediction = self.lm_heads[head](hidden.last_hidden_state[:, -1])
            if revin:
                prediction = prediction * std + mean  # back to the series' scale
            produced = prediction.shape[-1]
            pieces.append(prediction[:, :remaining])
            remaining -= min(produced, remaining)
            if remaining == 0:
                break
            if produced % patch:
                raise ValueError(
                    f"cannot forecast beyond {max_new_tokens - remaining} points: head length {produced} "
                    f"is not a multiple of the patch length {patch}"
                )
            tokens = prediction
            if revin:
                if revin_statistics == "patch":
                    mean, std = _context_stats(prediction, None, None)
                tokens = (prediction - mean) / std
            if patch_mask is not None:
                patch_mask = torch.cat([patch_mask, patch_mask.new_ones(len(patch_mask), produced // patch)], -1)
        return torch.cat(pieces, dim=-1)


def _context_stats(
    values: torch.Tensor, point_valid: torch.Tensor | None, counts: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and unbiased std per row over the real points (the original's statistics)."""
    if point_valid is None:
        mean, std = values.mean(dim=-1, keepdim=True), values.std(dim=-1, keepdim=True)
    else:
        weights = point_valid.to(values.dtype)
        count = counts.to(values.dtype)[:, None]
        mean = (values * weights).sum(-1, keepdim=True) / count
        squares = (((values - mean) * weights) ** 2).sum(-1, keepdim=True)
        std = (squares / (count - 1).clamp(min=1)).sqrt()
    # A constant context has std 0 (NaN in the original); scaling by 1 keeps the forecast finite.
    std = torch.where(std > 0, std, torch.ones_like(std))
    return mean, std
