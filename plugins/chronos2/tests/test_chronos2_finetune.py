"""Fine-tuning through the model type's ``finetune`` hook: new weights in the official format that the same
pipeline serves, and 1512 messages for bad hyperparameters."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.pipelines.base import ModelInfo


def _dataset(rng: np.random.Generator) -> list:
    # what a data source yields: (name, values) pairs
    return [(f"root.sg.d{i}.s", 3.0 * np.sin(np.arange(96) / 4.0 + i) + rng.normal(size=96)) for i in range(4)]


def test_finetuned_weights_are_served_by_the_same_pipeline(manager, checkpoint: Path, ours,
                                                           tmp_path: Path) -> None:
    spec = manager.model_type("t5").record
    base = ModelInfo(model_id="chronos2", model_type="t5", path=checkpoint)
    messages: list[str] = []
    out = tmp_path / "tuned"
    metrics = spec.finetune(base, _dataset(np.random.default_rng(0)),
                            {"train_epochs": "1", "iter_per_epoch": "2", "learning_rate": "0.01",
                             "batch_size": "4", "prediction_length": "16"},
                            out, messages.append)
    assert metrics["losses"] and np.isfinite(metrics["losses"]).all()
    assert sorted(p.name for p in Path(out).iterdir()) == ["config.json", "model.safetensors"]
    assert messages and "2 steps" in messages[0]
    # the trainer counts steps; progress reads in the epochs and iterations asked for
    assert [m.split(", loss")[0] for m in messages[1:-1]] == ["epoch 1/1, iteration 1/2", "epoch 1/1, iteration 2/2"]

    tuned = spec.pipeline_cls(ModelInfo(model_id="tuned", model_type="t5", category="fine_tuned", path=out))
    probe = [{"targets": 3.0 * np.sin(np.arange(64) / 4.0)}]
    after = tuned.run(probe, output_length=16, quantiles="all")[0]
    before = ours.run(probe, output_length=16, quantiles="all")[0]
    assert after.shape == before.shape == (21, 16)
    assert not np.allclose(after, before, atol=1e-4)  # the weights did change


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"epochs": "3"}, r"Unknown hyperparameter\(s\) epochs for chronos2; allowed: train_epochs"),
        ({"learning_rate": "fast"}, r"Hyperparameter learning_rate must be a number, got 'fast'"),
        ({"iter_per_epoch": "0"}, r"Hyperparameter iter_per_epoch must be positive"),
        ({"prediction_length": "64"}, r"shorter than 2 x prediction_length = 128 rows"),
    ],
)
def test_bad_hyperparameters_are_refused_before_training(manager, checkpoint: Path, tmp_path: Path,
                                                         params: dict, message: str) -> None:
    spec = manager.model_type("t5").record
    base = ModelInfo(model_id="chronos2", model_type="t5", path=checkpoint)
    with pytest.raises(InvalidInferenceConfigError, match=message):
        spec.finetune(base, _dataset(np.random.default_rng(0)), params, tmp_path / "tuned")
    assert not (tmp_path / "tuned").exists()
