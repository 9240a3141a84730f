"""Fixtures: the tiny checkpoints in the published format and the reference's outputs on them (both made by
``fixtures/make_golden.py`` with toto-ts 0.2.0), and our pipeline serving them through the plugin's entry point.

Test modules read ``fixtures/golden.json`` themselves to parametrize (collection happens before fixtures).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ainode_core.pipelines.base import ModelInfo
from ainode_core.plugins import PluginManager

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def _offline_and_single_threaded(monkeypatch):
    # The hub is unreachable here (fail fast, never download); two shared cores: one thread per test run.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def golden() -> dict[str, np.ndarray]:
    with np.load(FIXTURES / "golden.npz") as data:
        return {key: data[key] for key in data.files}


@pytest.fixture(scope="session")
def manager() -> PluginManager:
    # Through the entry point like the node, but only this plugin: another plugin's breakage is not ours.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AINODE_LOAD_PLUGINS", "toto")
        return PluginManager(strict=True)


@pytest.fixture(scope="session")
def checkpoint() -> Path:
    """The main tiny checkpoint (read only: copy it before changing anything)."""
    return FIXTURES / "toto_tiny"


@pytest.fixture(scope="session")
def pipeline_for(manager: PluginManager):
    """``pipeline_for(folder)`` → our pipeline class (found through the registry) serving that folder."""

    def build(folder: Path, model_id: str = "toto"):
        spec = manager.model_type("toto").record
        return spec.pipeline_cls(ModelInfo(model_id=model_id, model_type="toto", path=folder), device="cpu")

    return build


@pytest.fixture(scope="session")
def ours(pipeline_for, checkpoint):
    return pipeline_for(checkpoint)
