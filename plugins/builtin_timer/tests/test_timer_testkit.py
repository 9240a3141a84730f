"""The core's plugin test kit (every named check) on both model types, with the tiny fixture checkpoints.

Timer-XL runs on the 24-point-patch checkpoint: the kit's series (48-64 points) are shorter than the
official 96-point patch, which Timer-XL rejects by design (tested in test_timer_pipeline.py). Sundial
runs with a ``seed``: without one its forecasts are random, as they should be.
"""
from __future__ import annotations

from pathlib import Path

from ainode_core.pipelines.base import ModelInfo
from ainode_core.testing import parametrize_with_checks
from ainode_plugin_timer import ainode_register_model_types

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PARAMS = {
    "timer": [{"model_info": ModelInfo("timer_xl", "timer", path=FIXTURES / "timer_p24", config={"revin": True})}],
    "sundial": [{"model_info": ModelInfo("sundial", "sundial", path=FIXTURES / "sundial_o48",
                                         config={"revin": True, "num_samples": 10}),
                 "options": {"seed": 1}}],
}


@parametrize_with_checks(ainode_register_model_types(), params=PARAMS)
def test_testkit(spec, check):
    check(spec)
