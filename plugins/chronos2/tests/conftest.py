"""Fixtures: a tiny random-weight Chronos-2 saved in the official format, served two ways.

``ours`` goes through the node's path (PluginManager → model type ``t5`` → its pipeline class);
``reference`` is chronos-forecasting's own Chronos2Pipeline loaded from the same folder.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from chronos.chronos2 import Chronos2CoreConfig, Chronos2Model, Chronos2Pipeline

from ainode_core.pipelines.base import ModelInfo
from ainode_core.plugins import PluginManager

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
    config = Chronos2CoreConfig(**TINY, chronos_config=dict(CHRONOS_CONFIG))
    config.architectures = ["Chronos2Model"]
    torch.manual_seed(seed)
    Chronos2Model(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = save_tiny_chronos2(tmp_path_factory.mktemp("chronos2") / "chronos2")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    return folder


@pytest.fixture(scope="session")
def manager() -> PluginManager:
    # Through the entry point like the node, but only this plugin: another plugin's breakage is not ours.
    saved = os.environ.get("AINODE_LOAD_PLUGINS")
    os.environ["AINODE_LOAD_PLUGINS"] = "chronos2"
    try:
        return PluginManager(strict=True)
    finally:
        if saved is None:
            del os.environ["AINODE_LOAD_PLUGINS"]
        else:
            os.environ["AINODE_LOAD_PLUGINS"] = saved


@pytest.fixture(scope="session")
def ours(manager: PluginManager, checkpoint: Path):
    spec = manager.model_type("t5").record
    info = ModelInfo(model_id="chronos2", model_type="t5", path=checkpoint)
    return spec.pipeline_cls(info, device="cpu")


@pytest.fixture(scope="session")
def reference(checkpoint: Path) -> Chronos2Pipeline:
    return Chronos2Pipeline.from_pretrained(checkpoint)
