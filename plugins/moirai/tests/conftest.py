"""Fixtures: the committed tiny Moirai-2 checkpoint (official format, see fixtures/make_golden.py), the reference's
goldens for it, and our pipeline loaded from it the way the node loads it (entry point → model type ``moirai``)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ainode_core.pipelines.base import ModelInfo
from ainode_core.plugins import PluginManager

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def checkpoint() -> Path:
    folder = FIXTURES / "moirai2_tiny"
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    return folder


@pytest.fixture(scope="session")
def manager() -> PluginManager:
    # Through the entry point like the node, this plugin only: another plugin's breakage is not ours.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AINODE_LOAD_PLUGINS", "moirai")
        return PluginManager(strict=True)


@pytest.fixture(scope="session")
def ours(manager: PluginManager, checkpoint: Path):
    spec = manager.model_type("moirai").record
    return spec.pipeline_cls(ModelInfo(model_id="moirai2", model_type="moirai", path=checkpoint), device="cpu")


@pytest.fixture(scope="session")
def inputs() -> dict[str, np.ndarray]:
    with np.load(FIXTURES / "inputs.npz") as stored:
        return {name: stored[name].astype(np.float64) for name in stored.files}


@pytest.fixture(scope="session")
def goldens() -> dict[str, np.ndarray]:
    """Case name → the reference's ``[C, 9, H]`` quantiles (``patched_`` cases: see make_golden.py)."""
    with np.load(FIXTURES / "goldens.npz") as stored:
        return {name: stored[name] for name in stored.files}
