"""Test helpers: a tiny random-weight Chronos-2 saved in the official format (``config.json`` +
``model.safetensors``), for this plugin's tests and the node-level tests in ``tests/``.

Imports torch and chronos: import this module from tests only, never from the plugin's registration path.
"""
from __future__ import annotations

from pathlib import Path

import torch
from chronos.chronos2 import Chronos2CoreConfig, Chronos2Model

# amazon/chronos-2's forecasting settings (patches of 16, 64 output patches per pass, 21 quantiles) on a
# tiny encoder. initializer_factor 0.5 (not 0.05) so random weights give clearly distinct quantiles and
# clearly visible effects of group members and covariates.
QUANTILES_21 = [0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
                0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99]
TINY = dict(d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4, initializer_factor=0.5, reg_token_id=1)
CHRONOS_CONFIG = dict(context_length=8192, input_patch_size=16, input_patch_stride=16, output_patch_size=16,
                      max_output_patches=64, quantiles=QUANTILES_21, use_reg_token=True, use_arcsinh=True,
                      time_encoding_scale=8192)


def save_tiny_chronos2(folder: Path, seed: int = 0) -> Path:
    """Save a tiny random-weight Chronos-2 to ``folder`` (created) and return ``folder``."""
    config = Chronos2CoreConfig(**TINY, chronos_config=dict(CHRONOS_CONFIG))
    config.architectures = ["Chronos2Model"]
    torch.manual_seed(seed)
    Chronos2Model(config).save_pretrained(folder)
    return folder
