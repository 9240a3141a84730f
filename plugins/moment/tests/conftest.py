"""Fixtures: the committed tiny random-weight MOMENT checkpoint (official format) and momentfm's goldens.

``fixtures/moment_tiny`` and ``fixtures/golden.npz`` were made by ``fixtures/make_golden.py`` with momentfm
0.1.4 in a throw-away venv, ``fixtures/forecast_golden.npz`` by ``fixtures/make_forecast_golden.py``; nothing
here imports momentfm or downloads weights.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ainode_core.pipelines.base import ModelInfo
from ainode_core.plugins import PluginManager

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CHECKPOINT = FIXTURES / "moment_tiny"


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach the hub: fail fast instead of waiting on it."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def checkpoint() -> Path:
    assert sorted(p.name for p in CHECKPOINT.iterdir()) == ["config.json", "model.safetensors"]
    return CHECKPOINT


def load_cases(name: str) -> dict[str, dict[str, np.ndarray]]:
    """``fixtures/<name>`` (keys ``case/what``) as {case: {what: array}}."""
    with np.load(FIXTURES / name) as arrays:
        cases: dict[str, dict[str, np.ndarray]] = {}
        for key in arrays.files:
            case, what = key.split("/")
            cases.setdefault(case, {})[what] = arrays[key]
    return cases


@pytest.fixture(scope="session")
def golden() -> dict[str, dict[str, np.ndarray]]:
    """{case: {"x", "reconstruction", "scores", "imputed"}} as momentfm computed them."""
    return load_cases("golden.npz")


@pytest.fixture(scope="session")
def forecast_golden() -> dict[str, dict[str, np.ndarray]]:
    """{case: {"x", "forecast"}}: momentfm's forecasts by masked reconstruction (make_forecast_golden.py)."""
    return load_cases("forecast_golden.npz")


@pytest.fixture(scope="session")
def manager() -> PluginManager:
    """Through the entry point like the node, but only this plugin: another plugin's breakage is not ours."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AINODE_LOAD_PLUGINS", "moment")
        return PluginManager(strict=True)


def _model_info(path: Path | None, model_id: str = "moment") -> ModelInfo:
    return ModelInfo(model_id=model_id, model_type="moment", task="anomaly_detection", path=path)


@pytest.fixture(scope="session")
def model_info():
    """``model_info(folder, model_id="moment")``: what the node gives a pipeline for a MOMENT folder."""
    return _model_info


@pytest.fixture(scope="session")
def build(manager: PluginManager):
    """``build(folder, model_id="moment")``: the pipeline as the node builds it (model type ``moment`` → its
    registered pipeline class)."""
    return lambda path, model_id="moment": manager.model_type("moment").record.pipeline_cls(
        _model_info(path, model_id), device="cpu")


@pytest.fixture(scope="session")
def ours(build, checkpoint: Path):
    return build(checkpoint)
