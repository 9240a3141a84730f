"""Timer-XL configuration: the keys of the official ``thuml/timer-base-84m`` config.json."""
from __future__ import annotations

from typing import Any

from transformers import PretrainedConfig


class TimerConfig(PretrainedConfig):
    """Defaults are the official checkpoint's values (the original class defaults to a 1-point patch,
    which no released checkpoint uses); any size given in a config.json wins.

    ``input_token_len`` is the patch length, ``output_token_lens`` the lengths of the prediction heads
    (one ``lm_heads`` entry each, ascending). ``rope_theta`` is honoured; the original hard-codes 10000,
    which is also the value every released config carries.
    """

    model_type = "timer"
    keys_to_ignore_at_inference = ["past_key_values"]

    def __init__(
        self,
        input_token_len: int = 96,
        hidden_size: int = 1024,
        intermediate_size: int = 2048,
        output_token_lens: list[int] | None = None,
        num_hidden_layers: int = 8,
        num_attention_heads: int = 8,
        hidden_act: str = "silu",
        use_cache: bool = True,
        rope_theta: float = 10000,
        attention_dropout: float = 0.0,
        initializer_range: float = 0.02,
        max_position_embeddings: int = 10000,
        **kwargs: Any,
    ) -> None:
        self.input_token_len = input_token_len
        self.hidden_size = hidden_size
        self.intermediate_size = intermediate_size
        self.output_token_lens = list(output_token_lens) if output_token_lens is not None else [96]
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.hidden_act = hidden_act
        self.use_cache = use_cache
        self.rope_theta = rope_theta
        self.attention_dropout = attention_dropout
        self.initializer_range = initializer_range
        self.max_position_embeddings = max_position_embeddings
        super().__init__(**kwargs)
