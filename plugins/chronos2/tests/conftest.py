"""Fixtures: a tiny random-weight Chronos-2 saved in the official format, served two ways.

``ours`` goes through the node's path (PluginManager → model type ``t5`` → its pipeline class);
``reference`` is chronos-forecasting's own Chronos2Pipeline loaded from the same folder.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from chronos.chronos2 import Chronos2Pipeline

from ainode_core.pipelines.base import ModelInfo
from ainode_core.plugins import PluginManager
from ainode_plugin_chronos2.testing import save_tiny_chronos2


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
