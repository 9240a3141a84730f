"""Moirai-2 configuration: exactly the keys of the official ``Salesforce/moirai-2.0-R-small`` config.json
(written by uni2ts 2.0.0's ``Moirai2Module``, a ``PyTorchModelHubMixin``: its ``__init__`` arguments)."""
from __future__ import annotations

from typing import Any, Sequence

from transformers import PretrainedConfig

NINE_LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


class Moirai2Config(PretrainedConfig):
    """Defaults are moirai-2.0-R-small's values. The official file has no ``model_type`` key; the class says
    ``moirai`` (what IoTDB lists for ``moirai2``), which is only a label here: no AutoConfig lookup is made.

    ``num_predict_token`` patches of ``patch_size`` steps come out of one forward pass (4 x 16 = 64 steps);
    the number of attention heads is ``d_model // 64`` (uni2ts' rule), so ``d_model`` is a multiple of 64.
    """

    model_type = "moirai"

    def __init__(
        self,
        d_model: int = 384,
        d_ff: int = 1024,
        num_layers: int = 6,
        patch_size: int = 16,
        max_seq_len: int = 512,
        attn_dropout_p: float = 0.0,
        dropout_p: float = 0.0,
        scaling: bool = True,
        num_predict_token: int = 4,
        quantile_levels: Sequence[float] = NINE_LEVELS,
        **kwargs: Any,
    ) -> None:
        self.d_model = d_model
        self.d_ff = d_ff
        self.num_layers = num_layers
        self.patch_size = patch_size
        self.max_seq_len = max_seq_len
        self.attn_dropout_p = attn_dropout_p  # dropout is off at inference; kept so the file round-trips
        self.dropout_p = dropout_p
        self.scaling = scaling
        self.num_predict_token = num_predict_token
        self.quantile_levels = [float(level) for level in quantile_levels]
        super().__init__(**kwargs)

    @property
    def num_heads(self) -> int:
        return self.d_model // 64

    @property
    def one_pass_length(self) -> int:
        """Longest horizon one forward pass gives; longer ones are rolled out autoregressively."""
        return self.num_predict_token * self.patch_size
