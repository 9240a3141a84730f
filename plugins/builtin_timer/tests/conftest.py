"""Fixtures for the Timer-XL / Sundial tests: the tiny official-format checkpoints and the golden outputs
of the original code, both made by ``fixtures/make_golden.py`` (see its docstring).

Test modules read ``fixtures/golden.json`` themselves to parametrize (collection happens before fixtures).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from ainode_core.pipelines.base import ModelInfo

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def golden() -> dict[str, np.ndarray]:
    """Arrays of golden.npz: ``series/...`` inputs and ``caseN`` outputs of the original code."""
    with np.load(FIXTURES / "golden.npz") as data:
        return {key: data[key] for key in data.files}


@pytest.fixture(autouse=True)
def _single_thread():
    # Two CPU cores shared by several test runs: one thread each keeps the tiny models fast.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def checkpoint(tmp_path):
    """``checkpoint("timer_p96")`` → a temp copy of that official-format folder (config.json +
    model.safetensors, as the node stores a model)."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(FIXTURES / name, target)
        return target

    return copy


@pytest.fixture(scope="module")
def fixture_info():
    """``fixture_info("timer_p96", "timer")`` → a ModelInfo serving that fixture checkpoint in place."""

    def make(name: str, model_type: str, **config) -> ModelInfo:
        return ModelInfo(model_id=name, model_type=model_type, path=FIXTURES / name, config=config)

    return make
