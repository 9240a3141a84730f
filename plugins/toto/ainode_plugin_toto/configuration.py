"""Toto's configuration: the keys of ``Datadog/Toto-Open-Base-1.0``'s ``config.json`` as published.

The published file holds ``Toto.__init__``'s arguments (toto-ts 0.2.0), with the scaler and the output head
named by the class-path strings of Datadog's training code (``"<class 'model.scaler....'>"``). We accept those
strings (and IoTDB's short aliases) but build only what the official checkpoint uses; any other choice is
refused by :meth:`TotoConfig.unsupported` with the key to change, instead of serving a different model.
"""
from __future__ import annotations

from typing import Any

from transformers import PretrainedConfig

CAUSAL_PATCH_SCALER = "<class 'model.scaler.CausalPatchStdMeanScaler'>"
STUDENT_T_MIXTURE = "<class 'model.distribution.MixtureOfStudentTsOutput'>"
# IoTDB's copy of the code also accepts these short names for the same classes.
SCALER_NAMES = (CAUSAL_PATCH_SCALER, "per_variate_causal_patch")
HEAD_NAMES = (STUDENT_T_MIXTURE, "student_t_mixture")
# Keys without which a config.json is not a Toto checkpoint at all.
REQUIRED_KEYS = ("patch_size", "stride", "embed_dim", "num_layers", "num_heads", "mlp_hidden_dim",
                 "spacewise_every_n_layers", "scaler_cls", "output_distribution_classes")


class TotoConfig(PretrainedConfig):
    """Defaults are Toto-Open-Base-1.0's (151M parameters). ``dropout`` and ``use_memory_efficient_attention``
    (xFormers) only matter for training / the kernel choice; inference ignores them."""

    model_type = "toto"

    def __init__(
        self,
        patch_size: int = 64,
        stride: int = 64,
        embed_dim: int = 768,
        num_layers: int = 12,
        num_heads: int = 12,
        mlp_hidden_dim: int = 3072,
        dropout: float = 0.1,
        spacewise_every_n_layers: int = 12,
        scaler_cls: str = CAUSAL_PATCH_SCALER,
        output_distribution_classes: list[str] | None = None,
        output_distribution_kwargs: dict[str, Any] | None = None,
        spacewise_first: bool = True,
        use_memory_efficient_attention: bool = True,
        stabilize_with_global: bool = True,
        scale_factor_exponent: float = 10.0,
        **kwargs: Any,
    ) -> None:
        self.patch_size = int(patch_size)
        self.stride = int(stride)
        self.embed_dim = int(embed_dim)
        self.num_layers = int(num_layers)
        self.num_heads = int(num_heads)
        self.mlp_hidden_dim = int(mlp_hidden_dim)
        self.dropout = float(dropout)
        self.spacewise_every_n_layers = int(spacewise_every_n_layers)
        self.scaler_cls = scaler_cls
        self.output_distribution_classes = list(output_distribution_classes or [STUDENT_T_MIXTURE])
        self.output_distribution_kwargs = dict(output_distribution_kwargs or {"k_components": 24})
        self.spacewise_first = bool(spacewise_first)
        self.use_memory_efficient_attention = bool(use_memory_efficient_attention)
        self.stabilize_with_global = bool(stabilize_with_global)
        self.scale_factor_exponent = float(scale_factor_exponent)
        super().__init__(**kwargs)

    @property
    def k_components(self) -> int:
        return int(self.output_distribution_kwargs.get("k_components", 1))

    @property
    def head_dim(self) -> int:
        return self.embed_dim // self.num_heads

    def time_wise_layers(self) -> list[bool]:
        """Per layer: True = attention over time, False = over the variates (toto's ``_get_layer_types``)."""
        every = self.spacewise_every_n_layers
        if every == -1:
            return [True] * self.num_layers
        block = [True] * (every - 1)
        block = [False] + block if self.spacewise_first else block + [False]
        return block * (self.num_layers // every)

    def unsupported(self) -> str | None:
        """Why this config cannot be served as Toto (the key and what to set), or None when it can."""
        if self.scaler_cls not in SCALER_NAMES:
            return f"scaler_cls {self.scaler_cls!r} is not supported; Toto checkpoints use {CAUSAL_PATCH_SCALER!r}"
        if len(self.output_distribution_classes) != 1 or self.output_distribution_classes[0] not in HEAD_NAMES:
            return (f"output_distribution_classes {self.output_distribution_classes!r} is not supported; Toto "
                    f"checkpoints use [{STUDENT_T_MIXTURE!r}]")
        if self.k_components < 1:
            return f"output_distribution_kwargs.k_components must be at least 1, got {self.k_components}"
        if self.stride != self.patch_size:
            return f"stride ({self.stride}) must equal patch_size ({self.patch_size}): patches do not overlap"
        if self.embed_dim % self.num_heads:
            return f"embed_dim ({self.embed_dim}) must be a multiple of num_heads ({self.num_heads})"
        every = self.spacewise_every_n_layers
        if every != -1 and (every < 1 or self.num_layers % every):
            return (f"num_layers ({self.num_layers}) must be a multiple of spacewise_every_n_layers ({every}), "
                    "or set spacewise_every_n_layers to -1 (time-wise attention only)")
        return None
