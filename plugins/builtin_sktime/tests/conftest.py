"""Fixtures: the sktime plugin as the node finds it (entry point → PluginManager → registered spec), and data.

``sktime_pipeline("arima")`` builds the pipeline exactly the way the node does: from the registered
``ModelTypeSpec.pipeline_cls`` with a ``ModelInfo`` carrying the built-in model's task and config.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

from ainode_core.pipelines.base import ModelInfo, Pipeline
from ainode_core.plugins import PluginManager


@pytest.fixture(scope="session")
def plugin_manager() -> PluginManager:
    return PluginManager()


@pytest.fixture(scope="session")
def sktime_spec(plugin_manager):
    registered = plugin_manager.model_type("sktime")
    assert registered is not None, "the sktime model type is not registered (entry point missing?)"
    return registered.record


@pytest.fixture
def sktime_pipeline(sktime_spec, monkeypatch) -> Callable[..., Pipeline]:
    # In-process unless a test asks for the worker pool: keeps the suite fast on a small machine.
    monkeypatch.setenv("AINODE_SKTIME_PARALLEL", "never")

    def build(model_id: str, **config_overrides) -> Pipeline:
        builtin = next(b for b in sktime_spec.builtin_models if b.model_id == model_id)
        info = ModelInfo(model_id=model_id, model_type="sktime", task=builtin.task,
                         config={**builtin.config, **config_overrides})
        return sktime_spec.pipeline_cls(info, device="cpu")

    return build


@pytest.fixture(scope="session")
def airline() -> np.ndarray:
    from sktime.datasets import load_airline

    return load_airline().to_numpy(dtype=np.float64)


@pytest.fixture(scope="session")
def multivariate() -> np.ndarray:
    """[3, 120]: a seasonal series with trend, a noisy level, a random walk (all positive)."""
    rng = np.random.default_rng(7)
    t = np.arange(120)
    return np.stack([
        100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, t.size),
        50 + rng.normal(0, 3, t.size),
        200 + np.cumsum(rng.normal(0, 1, t.size)),
    ])

