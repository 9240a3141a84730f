"""The core's plugin test kit (every named check) on the MOMENT model type, with the tiny checkpoint.

The kit's behaviour checks exercise forecasting parameter sets only, so for this anomaly-detection model
they pass without running it; test_moment_pipeline.py checks the same properties (shapes, batching, determinism,
inputs left alone, error types) for detection and imputation.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from ainode_core.testing import CHECKS
from ainode_plugin_moment import ainode_register_model_types


@pytest.mark.parametrize("check_name", list(CHECKS))
def test_testkit_check(check_name: str, checkpoint: Path, model_info) -> None:
    (spec,) = ainode_register_model_types()
    CHECKS[check_name](spec, model_info_factory=[{"model_info": model_info(checkpoint)}])
