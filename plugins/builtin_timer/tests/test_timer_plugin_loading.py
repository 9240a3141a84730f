"""The installed distribution as the node sees it: entry point → model types → pipeline on a model folder."""
from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.torch import load_file, save_file

from ainode_core.errors import ModelNotReadyError, StatusCode
from ainode_core.pipelines.base import ForecastPipeline, ModelInfo
from ainode_core.plugins import PluginManager


@pytest.fixture
def manager(monkeypatch):
    monkeypatch.setenv("AINODE_LOAD_PLUGINS", "timer")  # only this plugin, strictly: its failures are ours
    return PluginManager(strict=True)


def test_the_distribution_registers_both_model_types(manager):
    info = manager.plugins["timer"]
    assert info.distribution == "ainode-plugin-timer" and info.builtin and not info.errors
    assert sorted(info.registered["model_types"]) == ["sundial", "timer"]
    builtins = manager.registry("builtin_models")
    timer_xl, timer_spec = builtins["timer_xl"].record
    sundial, sundial_spec = builtins["sundial"].record
    assert (timer_spec.model_type, timer_xl.hf_repo_id, timer_xl.task) == ("timer", "thuml/timer-base-84m", "forecast")
    assert (sundial_spec.model_type, sundial.hf_repo_id) == ("sundial", "thuml/sundial-base-128m")
    assert {"sampling", "quantiles"} <= sundial_spec.capabilities
    assert all(issubclass(spec.pipeline_cls, ForecastPipeline) for spec in (timer_spec, sundial_spec))


@pytest.mark.parametrize("model_type, folder_name, model_id",
                         [("timer", "timer_p96", "timer_xl"), ("sundial", "sundial_o48", "sundial")])
def test_an_official_format_folder_serves_forecasts(manager, checkpoint, model_type, folder_name, model_id):
    folder = checkpoint(folder_name)
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    spec = manager.model_type(model_type).record
    pipeline = spec.pipeline_cls(ModelInfo(model_id, model_type, path=folder), device="cpu")
    outputs = pipeline.run([{"targets": np.sin(np.arange(300) / 9)}, {"targets": np.ones((2, 200))}],
                           output_length=120)
    assert [out.shape for out in outputs] == [(1, 120), (2, 120)]
    assert all(np.isfinite(out).all() for out in outputs)


@pytest.mark.parametrize("model_type", ["timer", "sundial"])
def test_missing_weights_are_a_clear_error(manager, tmp_path, model_type):
    folder = tmp_path / "weights_not_fetched"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": model_type}))
    spec = manager.model_type(model_type).record
    with pytest.raises(ModelNotReadyError) as error:
        spec.pipeline_cls(ModelInfo("my_model", model_type, path=folder))
    assert error.value.code == StatusCode.INFERENCE_INTERNAL_ERROR
    assert "my_model" in error.value.message and "model.safetensors not found" in error.value.message
    with pytest.raises(ModelNotReadyError, match="does not exist"):
        spec.pipeline_cls(ModelInfo("my_model", model_type, path=None))


def test_weights_that_do_not_fit_the_config_name_the_tensors(manager, checkpoint):
    folder = checkpoint("timer_p96")
    state = load_file(str(folder / "model.safetensors"))
    del state["lm_heads.0.weight"]
    save_file(state, str(folder / "model.safetensors"))
    with pytest.raises(ModelNotReadyError, match=r"missing tensors: lm_heads\.0\.weight"):
        manager.model_type("timer").record.pipeline_cls(ModelInfo("timer_xl", "timer", path=folder))

    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "hidden_size": 64}))
    with pytest.raises(ModelNotReadyError, match="wrong shape"):
        manager.model_type("timer").record.pipeline_cls(ModelInfo("timer_xl", "timer", path=folder))
