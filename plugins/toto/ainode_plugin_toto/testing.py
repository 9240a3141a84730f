"""Test helpers: a tiny random-weight Toto saved in the published format (``config.json`` with toto-ts'
arguments + ``model.safetensors`` with the published tensor names), for this plugin's tests and node-level
tests (e.g. placing weights in ``builtin/toto/``).

Imports torch: import this module from tests only, never from the plugin's registration path. The parity
fixtures in ``plugins/toto/tests/fixtures`` were written by the reference code instead (make_golden.py).
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from ainode_plugin_toto.configuration import CAUSAL_PATCH_SCALER, STUDENT_T_MIXTURE, TotoConfig
from ainode_plugin_toto.modeling import TotoForPrediction

# Toto-Open-Base-1.0's settings (patches of 64, causal patch scaler, Student-T mixture) on a tiny network.
TINY: dict[str, Any] = dict(
    patch_size=64, stride=64, embed_dim=16, num_layers=4, num_heads=4, mlp_hidden_dim=32, dropout=0.1,
    spacewise_every_n_layers=2, scaler_cls=CAUSAL_PATCH_SCALER, output_distribution_classes=[STUDENT_T_MIXTURE],
    output_distribution_kwargs={"k_components": 3}, spacewise_first=False, use_memory_efficient_attention=True,
    stabilize_with_global=True, scale_factor_exponent=10.0,
)


def save_tiny_toto(folder: Path, seed: int = 0, **overrides: Any) -> Path:
    """Save a tiny random-weight Toto to ``folder`` (created) and return ``folder``."""
    arguments = {**TINY, **overrides}
    model = TotoForPrediction(TotoConfig(**arguments))
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for name, tensor in model.state_dict().items():
        if name.endswith(".scale"):  # RMSNorm gains
            value = 1 + 0.1 * torch.randn(tensor.shape, generator=generator)
        elif name.endswith(".bias"):
            value = 0.1 * torch.randn(tensor.shape, generator=generator)
        else:  # O(1) activations: the default init would give a nearly flat forecast
            value = torch.randn(tensor.shape, generator=generator) / math.sqrt(tensor.shape[-1])
        state[name] = value.contiguous()
    state["model.transformer.rotary_emb.freqs"] = model.model.transformer.rotary_emb.freqs.clone()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "config.json").write_text(json.dumps(arguments, indent=2, sort_keys=True) + "\n")
    return folder
