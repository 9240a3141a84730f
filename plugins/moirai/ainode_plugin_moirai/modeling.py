"""The Moirai-2 network (uni2ts 2.0.0's ``Moirai2Module``) as a transformers model on our stack.

One call maps packed tokens (see :mod:`ainode_plugin_moirai.packing`) to, for every token, the next
``num_predict_token`` patches at each of the quantile levels, in the series' own scale:
``[B, T, num_predict_token * len(quantile_levels) * patch_size]``.
Parameter names equal the official checkpoint's, so ``model.safetensors`` loads strictly by name.
"""
from __future__ import annotations

import torch
from torch import nn
from transformers import PreTrainedModel

from ainode_plugin_moirai.configuration import Moirai2Config
from ainode_plugin_moirai.layers import Encoder, ResidualBlock

MINIMUM_SCALE = 1e-5  # uni2ts' PackedStdScaler: added to the variance


def standardise(target: torch.Tensor, observed: torch.Tensor, sample_id: torch.Tensor,
                variate_id: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation (Bessel-corrected) of each (sample, variate) over its observed steps, in
    float64 as uni2ts computes them, per token ``[B, T, 1]``. Filler tokens (sample 0) get 0 and 1.

    uni2ts compares every token with every other ([T, T] per row); grouping by variate through a one-hot
    matrix is the same sums in O(T x variates), and deterministic on every device.
    """
    real = sample_id != 0
    groups = nn.functional.one_hot(variate_id, int(variate_id.max()) + 1).to(torch.float64)
    groups = groups * real.unsqueeze(-1)  # [B, T, V]
    weights = observed.to(torch.float64)
    values = target.to(torch.float64)
    count = torch.einsum("btv,bt->bv", groups, weights.sum(-1))
    total = torch.einsum("btv,bt->bv", groups, (values * weights).sum(-1))
    loc = torch.einsum("btv,bv->bt", groups, total / torch.where(count == 0, 1.0, count)).unsqueeze(-1)
    squares = torch.einsum("btv,bt->bv", groups, ((values - loc) ** 2 * weights).sum(-1))
    dof = count - 1
    variance = squares / torch.where(dof == 0, 1.0, dof)
    scale = torch.einsum("btv,bv->bt", groups, torch.sqrt(variance + MINIMUM_SCALE)).unsqueeze(-1)
    loc = torch.where(real.unsqueeze(-1), loc, 0.0)
    scale = torch.where(real.unsqueeze(-1), scale, 1.0)
    return loc.float(), scale.float()


class Moirai2PreTrainedModel(PreTrainedModel):
    config_class = Moirai2Config
    base_model_prefix = ""  # the official tensors have no prefix (in_proj.*, encoder.*, out_proj.*)

    def _init_weights(self, module: nn.Module) -> None:
        pass  # weights always come from a checkpoint (loading.py refuses a partial one)


class Moirai2Model(Moirai2PreTrainedModel):
    def __init__(self, config: Moirai2Config) -> None:
        super().__init__(config)
        levels, patch = len(config.quantile_levels), config.patch_size
        self.in_proj = ResidualBlock(2 * patch, config.d_model, config.d_model)
        self.encoder = Encoder(config.d_model, config.num_layers, config.num_heads, config.d_ff)
        self.out_proj = ResidualBlock(config.d_model, config.d_model, config.num_predict_token * levels * patch)
        self.post_init()

    def forward(self, target: torch.Tensor, observed: torch.Tensor, sample_id: torch.Tensor,
                time_id: torch.Tensor, variate_id: torch.Tensor, prediction: torch.Tensor,
                at: torch.Tensor | None = None) -> torch.Tensor:
        """Tokens ``target``/``observed`` [B, T, patch]; ids and ``prediction`` (still to forecast) [B, T].
        ``at`` (token indices) limits the output to those tokens: the forecast reads only a few of them."""
        in_scaler = observed & ~prediction.unsqueeze(-1)  # steps still to forecast do not count
        if self.config.scaling:
            loc, scale = standardise(target, in_scaler, sample_id, variate_id)
        else:
            loc, scale = torch.zeros_like(target[..., :1]), torch.ones_like(target[..., :1])
        tokens = torch.cat([(target - loc) / scale, observed.to(torch.float32)], dim=-1)
        hidden = self.encoder(self.in_proj(tokens), sample_id, time_id, variate_id)
        if at is not None:
            hidden, loc, scale = hidden[:, at], loc[:, at], scale[:, at]
        return self.out_proj(hidden) * scale + loc
