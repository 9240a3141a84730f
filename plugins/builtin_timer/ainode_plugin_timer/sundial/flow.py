"""Sundial's TimeFlow head: a small MLP with adaptive layer norm (DiT style) that turns Gaussian noise
into a sample of the next ``output_token_lens[-1]`` points, conditioned on the transformer's last hidden
state, by flow matching (Euler steps along the learned velocity).

Parameter names follow the checkpoint (``flow_loss.net.res_blocks.N.adaLN_modulation.1`` ...).

The sampler computes what depends only on the series (the condition embedding) once, and what depends
only on (series, step) (time embedding, adaLN shift/scale/gate) once per step for all samples, instead
of once per sample as the original does; the arithmetic per value is the same.
"""
from __future__ import annotations

import math

import torch
from torch import nn


def _modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1 + scale) + shift


class TimestepEmbedder(nn.Module):
    """Sinusoidal features of the (scaled) flow time, then a 2-layer MLP."""

    def __init__(self, hidden_size: int, frequency_size: int = 256) -> None:
        super().__init__()
        self.frequency_size = frequency_size
        self.mlp = nn.Sequential(
            nn.Linear(frequency_size, hidden_size, bias=True), nn.SiLU(), nn.Linear(hidden_size, hidden_size, bias=True)
        )

    def forward(self, t: torch.Tensor, max_period: float = 10000) -> torch.Tensor:
        half = self.frequency_size // 2
        freqs = torch.exp(-math.log(max_period) * torch.arange(0, half, dtype=t.dtype) / half).to(t.device)
        args = t[:, None] * freqs[None]
        features = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
        if self.frequency_size % 2:
            features = torch.cat([features, torch.zeros_like(features[:, :1])], dim=-1)
        return self.mlp(features)


class ResBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.in_ln = nn.LayerNorm(channels, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(channels, channels, bias=True), nn.SiLU(),
                                 nn.Linear(channels, channels, bias=True))
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(channels, 3 * channels, bias=True))

    def forward(self, x: torch.Tensor, modulation: torch.Tensor) -> torch.Tensor:
        shift, scale, gate = modulation.chunk(3, dim=-1)
        return x + gate * self.mlp(_modulate(self.in_ln(x), shift, scale))


class FinalLayer(nn.Module):
    def __init__(self, channels: int, out_channels: int) -> None:
        super().__init__()
        self.norm_final = nn.LayerNorm(channels, elementwise_affine=False, eps=1e-6)
        self.linear = nn.Linear(channels, out_channels, bias=True)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(channels, 2 * channels, bias=True))

    def forward(self, x: torch.Tensor, modulation: torch.Tensor) -> torch.Tensor:
        shift, scale = modulation.chunk(2, dim=-1)
        return self.linear(_modulate(self.norm_final(x), shift, scale))


class SimpleMLPAdaLN(nn.Module):
    def __init__(self, in_channels: int, model_channels: int, out_channels: int, z_channels: int,
                 num_res_blocks: int) -> None:
        super().__init__()
        self.time_embed = TimestepEmbedder(model_channels)
        self.cond_embed = nn.Linear(z_channels, model_channels)
        self.input_proj = nn.Linear(in_channels, model_channels)
        self.res_blocks = nn.ModuleList(ResBlock(model_channels) for _ in range(num_res_blocks))
        self.final_layer = FinalLayer(model_channels, out_channels)

    def modulations(self, y: torch.Tensor) -> list[torch.Tensor]:
        """adaLN parameters for the conditioning ``y`` (time + condition embedding), one per block."""
        return [block.adaLN_modulation(y) for block in self.res_blocks] + [self.final_layer.adaLN_modulation(y)]

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """The original signature: x [N, C], flow time t [N] (already x1000), condition [N, z]."""
        return self.velocity(x, self.modulations(self.time_embed(t) + self.cond_embed(cond)))

    def velocity(self, x: torch.Tensor, modulations: list[torch.Tensor]) -> torch.Tensor:
        hidden = self.input_proj(x)
        for block, modulation in zip(self.res_blocks, modulations):
            hidden = block(hidden, modulation)
        return self.final_layer(hidden, modulations[-1])


class FlowHead(nn.Module):
    """Holds ``net`` (the attribute name the checkpoint uses: ``flow_loss.net``)."""

    def __init__(self, target_channels: int, z_channels: int, depth: int, width: int) -> None:
        super().__init__()
        self.target_channels = target_channels
        self.net = SimpleMLPAdaLN(target_channels, width, target_channels, z_channels, depth)

    def training_loss(self, target: torch.Tensor, z: torch.Tensor, mask: torch.Tensor | None = None,
                      mask_y: torch.Tensor | None = None) -> torch.Tensor:
        """Flow-matching loss (the original's): predict the clean target from a noisy interpolation,
        later points weighted down by 1/position."""
        noise = torch.randn_like(target)
        t = torch.rand(target.shape[0], device=target.device, dtype=target.dtype)
        noised = t[:, None] * target + (1 - t[:, None]) * noise
        predicted = self.net(noised, t * 1000, z)
        weights = 1.0 / torch.arange(1, self.target_channels + 1, dtype=target.dtype, device=target.device)
        squared = weights * (predicted - target) ** 2
        loss = (squared * mask_y if mask_y is not None else squared).sum(dim=-1)
        if mask is not None:
            loss = (loss * mask).sum() / mask.sum()
        return loss.mean()

    def sample(
        self,
        z: torch.Tensor,
        num_samples: int,
        num_steps: int,
        generators: list[torch.Generator] | None = None,
    ) -> torch.Tensor:
        """``num_samples`` draws per row of ``z`` [B, D] → [B, num_samples, target_channels].

        Without generators the noise is drawn as the original does (one [S*B, C] draw, sample-major), so a
        global ``torch.manual_seed`` reproduces its samples. With one generator per row, each row draws its
        own [S, C] noise: a row's samples then depend only on its seed, not on what else is in the batch.
        """
        batch, channels = z.shape[0], self.target_channels
        if generators is None:
            noise = torch.randn(num_samples, batch, channels, device=z.device, dtype=z.dtype).transpose(0, 1)
        else:
            noise = torch.stack([
                torch.randn(num_samples, channels, generator=gen, device=gen.device, dtype=z.dtype).to(z.device)
                for gen in generators
            ])
        cond = self.net.cond_embed(z)[:, None]  # [B, 1, W]: shared by every sample and step
        # Flow times of all steps (the original's float32 i / steps). Their adaLN modulations do not
        # depend on x, so they are computed for several steps per matmul: with few rows per step the
        # sampler is bound by reading the adaLN weights, which this reads once per group of steps.
        times = torch.arange(num_steps, device=z.device, dtype=z.dtype) / num_steps
        time_embedding = self.net.time_embed(times * 1000)  # [T, W]
        steps_per_group = max(1, _ROWS_PER_MODULATION_MATMUL // batch)
        x = noise
        dt = 1.0 / num_steps
        for first in range(0, num_steps, steps_per_group):
            group = time_embedding[first:first + steps_per_group, None, None] + cond  # [g, B, 1, W]
            modulations = self.net.modulations(group)
            for offset in range(group.shape[0]):
                velocity = self.net.velocity(x, [m[offset] for m in modulations])
                x = x + (velocity - noise) * dt
        return x


_ROWS_PER_MODULATION_MATMUL = 64
