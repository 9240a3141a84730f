"""Fine-tuning through ``ModelTypeSpec.finetune``: the original's training losses, a trained copy that the
same pipeline serves, and clear errors for bad hyperparameters or too little data."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.pipelines.base import ModelInfo
from ainode_plugin_timer import ainode_register_model_types
from ainode_plugin_timer.sundial.modeling import SundialForPrediction
from ainode_plugin_timer.timer.modeling import TimerForPrediction
from ainode_plugin_timer.weights import load_pretrained

CASES = json.loads((Path(__file__).parent / "fixtures" / "golden.json").read_text())["cases"]
SPECS = {spec.model_type: spec for spec in ainode_register_model_types()}


def _loss_case(model: str) -> dict:
    return next(c for c in CASES if c["kind"] == "training_loss" and c["model"] == model)


def test_timer_training_loss_matches_the_original(fixture_info, golden):
    """Every head's MSE averaged over heads (two heads in this checkpoint), as the original computes."""
    case = _loss_case("timer_p24")
    model = load_pretrained(TimerForPrediction, fixture_info("timer_p24", "timer").path)
    windows = torch.from_numpy(golden[case["series"]])
    loss = model(windows[:, :96], labels=windows[:, 24:]).loss
    np.testing.assert_allclose(loss.item(), golden[case["key"]][0], rtol=1e-5)


def test_sundial_training_loss_matches_the_original(fixture_info, golden):
    """The TimeFlow loss draws noise and flow times: with the original's seed the draws are the same."""
    case = _loss_case("sundial_o48")
    model = load_pretrained(SundialForPrediction, fixture_info("sundial_o48", "sundial").path)
    windows = torch.from_numpy(golden[case["series"]])
    torch.manual_seed(case["seed"])
    loss = model(windows[:, :64], labels=windows[:, 16:], loss_masks=torch.ones(2, 4), mask_y=torch.ones(2, 48)).loss
    np.testing.assert_allclose(loss.item(), golden[case["key"]][0], rtol=1e-5)


def _periodic(length: int, phase: float) -> np.ndarray:
    t = np.arange(length)
    return 10 + 3 * np.sin(2 * np.pi * t / 24 + phase)


def test_a_fine_tuned_timer_forecasts_its_training_data_better(fixture_info, tmp_path):
    base = fixture_info("timer_p24", "timer")
    dataset = [(f"root.sg.d{i}", _periodic(400, phase)) for i, phase in enumerate((0.0, 1.0, 2.0))]
    messages: list[str] = []
    result = SPECS["timer"].finetune(
        base, dataset, {"train_epochs": "2", "iter_per_epoch": "15", "learning_rate": "0.003",
                        "batch_size": "8", "context_length": "96"}, tmp_path / "tuned", messages.append)
    assert sorted(p.name for p in (tmp_path / "tuned").iterdir()) == ["config.json", "model.safetensors"]
    assert len(messages) == 30 and "epoch 2/2, iteration 15/15" in messages[-1]
    assert np.isfinite(result["loss"])

    history, future = _periodic(448, 0.5)[:400], _periodic(448, 0.5)[400:]
    tuned = ModelInfo("tuned", "timer", category="fine_tuned", path=tmp_path / "tuned")
    errors = {}
    for name, info in (("base", base), ("tuned", tuned)):
        [forecast] = SPECS["timer"].pipeline_cls(info).run([{"targets": history}], output_length=48)
        errors[name] = np.mean((forecast[0] - future) ** 2)
    assert errors["tuned"] < 0.2 * errors["base"], errors  # observed: 10.0 -> 0.13


def test_a_fine_tuned_sundial_is_served_by_the_same_pipeline(fixture_info, tmp_path):
    base = fixture_info("sundial_o48", "sundial")
    SPECS["sundial"].finetune(base, np.stack([_periodic(300, 0.0), _periodic(300, 1.0)]),
                              {"iter_per_epoch": 3, "learning_rate": 1e-3, "context_length": 64}, tmp_path / "tuned")
    before = load_pretrained(SundialForPrediction, base.path).state_dict()
    after = load_pretrained(SundialForPrediction, tmp_path / "tuned").state_dict()
    assert any(not torch.equal(before[name], after[name]) for name in before)
    tuned = ModelInfo("tuned", "sundial", category="fine_tuned", path=tmp_path / "tuned")
    [forecast] = SPECS["sundial"].pipeline_cls(tuned).run([{"targets": _periodic(200, 0.3)}], output_length=30)
    assert forecast.shape == (1, 30) and np.isfinite(forecast).all()


@pytest.mark.parametrize("params, words", [
    ({"learning_rate": "fast"}, ["learning_rate"]),
    ({"train_epochs": 0}, ["train_epochs"]),
    ({"batch_size": "x"}, ["batch_size"]),
    ({"context_length": 2000}, ["2040 points", "longest has 300"]),
])
def test_bad_hyperparameters_and_short_data_are_explained(fixture_info, tmp_path, params, words):
    with pytest.raises(InvalidInferenceConfigError) as error:
        SPECS["timer"].finetune(fixture_info("timer_p24", "timer"), [_periodic(300, 0.0)], params, tmp_path / "out")
    assert all(word in error.value.message for word in words), error.value.message
