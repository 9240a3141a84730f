"""Sundial configuration: the keys of the official ``thuml/sundial-base-128m`` config.json."""
from __future__ import annotations

from typing import Any

from transformers import PretrainedConfig


class SundialConfig(PretrainedConfig):
    """``input_token_len`` is the patch length (16), ``output_token_lens[-1]`` the length one TimeFlow
    sample covers (720), ``flow_loss_depth`` the number of residual blocks of the flow head,
    ``num_sampling_steps`` the default number of Euler steps, ``diffusion_batch_mul`` a training-only
    repeat factor. Defaults are the official checkpoint's values."""

    model_type = "sundial"
    keys_to_ignore_at_inference = ["past_key_values"]

    def __init__(
        self,
        input_token_len: int = 16,
        hidden_size: int = 768,
        intermediate_size: int = 3072,
        output_token_lens: list[int] | None = None,
        num_hidden_layers: int = 12,
        num_attention_heads: int = 12,
        hidden_act: str = "silu",
        use_cache: bool = True,
        rope_theta: float = 10000,
        dropout_rate: float = 0.1,
        initializer_range: float = 0.02,
        max_position_embeddings: int = 10000,
        flow_loss_depth: int = 3,
        num_sampling_steps: int = 50,
        diffusion_batch_mul: int = 4,
        **kwargs: Any,
    ) -> None:
        self.input_token_len = input_token_len
        self.hidden_size = hidden_size
        self.intermediate_size = intermediate_size
        self.output_token_lens = list(output_token_lens) if output_token_lens is not None else [720]
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.hidden_act = hidden_act
        self.use_cache = use_cache
        self.rope_theta = rope_theta
        self.dropout_rate = dropout_rate
        self.initializer_range = initializer_range
        self.max_position_embeddings = max_position_embeddings
        self.flow_loss_depth = flow_loss_depth
        self.num_sampling_steps = num_sampling_steps
        self.diffusion_batch_mul = diffusion_batch_mul
        super().__init__(**kwargs)
