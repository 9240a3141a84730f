"""Keys and values of the time-wise attention layers, kept between decoding steps (one patch token each).

Space-wise layers attend across the variates of one time step, so they need no cache. Buffers are allocated
once for the whole forecast (context tokens + the patches that will be fed back) and filled in place.
"""
from __future__ import annotations

import torch


class LayerCache:
    def __init__(self, keys: torch.Tensor, values: torch.Tensor, length: int = 0) -> None:
        self.keys = keys  # [rows, heads, capacity, head_dim]
        self.values = values
        self.length = length

    def append(self, keys: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store this call's keys/values ``[rows, heads, S, head_dim]``; return all stored so far."""
        end = self.length + keys.shape[-2]
        if end > self.keys.shape[-2]:
            raise RuntimeError(f"KV cache holds {self.keys.shape[-2]} tokens, {end} needed")
        self.keys[:, :, self.length:end] = keys
        self.values[:, :, self.length:end] = values
        self.length = end
        return self.keys[:, :, :end], self.values[:, :, :end]

    def repeat(self, times: int, variates: int, capacity: int) -> LayerCache:
        """A cache for ``times`` copies of every series: rows ordered (series, copy, variate), with room for
        ``capacity`` tokens. The rows of one series' copies share its context, so it is computed only once."""
        rows, heads, _, head_dim = self.keys.shape
        series = rows // variates

        def expand(stored: torch.Tensor) -> torch.Tensor:
            out = stored.new_empty((series * times * variates, heads, capacity, head_dim))
            used = stored[:, :, :self.length].reshape(series, 1, variates, heads, self.length, head_dim)
            out[:, :, :self.length] = used.expand(series, times, variates, heads, self.length, head_dim).reshape(
                series * times * variates, heads, self.length, head_dim)
            return out

        return LayerCache(expand(self.keys), expand(self.values), self.length)


def allocate(layers: int, rows: int, heads: int, head_dim: int, capacity: int, device: torch.device,
             dtype: torch.dtype) -> list[LayerCache]:
    shape = (rows, heads, capacity, head_dim)
    return [LayerCache(torch.empty(shape, device=device, dtype=dtype), torch.empty(shape, device=device, dtype=dtype))
            for _ in range(layers)]
