"""The core's plugin test kit (every named check) on the Toto model type: the mean path as IoTDB serves it,
and the sampling path (options as the strings Thrift delivers)."""
from __future__ import annotations

from pathlib import Path

import pytest

from ainode_core.pipelines.base import ModelInfo
from ainode_core.testing import CHECKS
from ainode_plugin_toto import ainode_register_model_types


@pytest.mark.parametrize("options", [{}, {"num_samples": "16", "seed": "3"}], ids=["mean", "sampled"])
@pytest.mark.parametrize("check_name", list(CHECKS))
def test_testkit_check(check_name: str, options: dict, checkpoint: Path) -> None:
    (spec,) = ainode_register_model_types()
    params = [{"model_info": ModelInfo(model_id="toto", model_type="toto", path=checkpoint), "options": options}]
    CHECKS[check_name](spec, model_info_factory=params)
