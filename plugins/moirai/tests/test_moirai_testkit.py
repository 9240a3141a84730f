"""The core's plugin test kit (every named check) on the Moirai-2 model type, with the tiny checkpoint."""
from __future__ import annotations

from pathlib import Path

import pytest

from ainode_core.pipelines.base import ModelInfo
from ainode_core.testing import CHECKS
from ainode_plugin_moirai import ainode_register_model_types


@pytest.mark.parametrize("check_name", list(CHECKS))
def test_testkit_check(check_name: str, checkpoint: Path) -> None:
    (spec,) = ainode_register_model_types()
    params = [{"model_info": ModelInfo(model_id="moirai2", model_type="moirai", path=checkpoint)}]
    CHECKS[check_name](spec, model_info_factory=params)
