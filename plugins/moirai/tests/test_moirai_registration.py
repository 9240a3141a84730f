"""The plugin as the node sees it: entry point, model type, built-in model and its licence, strict loading."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors.torch import load_file, save_file

from ainode_core.errors import ModelNotReadyError
from ainode_core.pipelines import ForecastPipeline
from ainode_core.pipelines.base import ModelInfo
from ainode_core.plugins import PluginManager
from ainode_core.testing.checks import heavy_imports_at_registration


def test_distribution_registers_moirai_with_builtin_moirai2(manager: PluginManager) -> None:
    listed = {entry["name"]: entry for entry in manager.listing(include_core=False)}
    assert listed["moirai"]["distribution"] == "ainode-plugin-moirai"
    assert listed["moirai"]["builtin"] is True
    assert listed["moirai"]["errors"] == []

    registered = manager.model_type("moirai")
    assert registered is not None and registered.plugin == "moirai"
    spec = registered.record
    assert issubclass(spec.pipeline_cls, ForecastPipeline)
    assert spec.tasks == ("forecast",)
    assert spec.capabilities == {"batching", "quantiles"}

    builtin, owner = manager.registry("builtin_models")["moirai2"].record
    assert owner is spec
    assert (builtin.task, builtin.hf_repo_id) == ("forecast", "Salesforce/moirai-2.0-R-small")
    assert builtin.weight_files == ("config.json", "model.safetensors")
    assert builtin.noncommercial_licence == "CC BY-NC 4.0"


def test_registration_does_not_import_torch() -> None:
    # Listing plugins/models must stay fast: torch and transformers load with the first instance only.
    assert heavy_imports_at_registration("moirai", "moirai", heavy=('torch', 'transformers')) == []


def _pipeline_for(manager: PluginManager, folder: Path):
    spec = manager.model_type("moirai").record
    return spec.pipeline_cls(ModelInfo(model_id="my_moirai", model_type="moirai", path=folder), device="cpu")


def _copy(checkpoint: Path, folder: Path, config: dict | None = None, tensors: dict | None = None) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config or json.loads((checkpoint / "config.json").read_text())))
    save_file(tensors if tensors is not None else load_file(checkpoint / "model.safetensors"),
              folder / "model.safetensors")
    return folder


def test_the_official_layout_loads(manager: PluginManager, checkpoint: Path) -> None:
    config = json.loads((checkpoint / "config.json").read_text())
    assert "model_type" not in config  # as published: the mixin writes the constructor's arguments only
    assert sorted(config) == ["attn_dropout_p", "d_ff", "d_model", "dropout_p", "max_seq_len", "num_layers",
                              "num_predict_token", "patch_size", "quantile_levels", "scaling"]
    pipeline = _pipeline_for(manager, checkpoint)
    assert pipeline.quantile_levels == (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def test_missing_weights_file_is_named(manager: PluginManager, checkpoint: Path, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text((checkpoint / "config.json").read_text())
    with pytest.raises(ModelNotReadyError, match=r"my_moirai cannot be loaded from .*: model\.safetensors missing"):
        _pipeline_for(manager, tmp_path)


def test_a_renamed_tensor_is_refused_not_replaced_by_random_weights(manager, checkpoint, tmp_path) -> None:
    tensors = load_file(checkpoint / "model.safetensors")
    tensors["encoder.layers.0.self_attn.q_norm.scale"] = tensors.pop("encoder.layers.0.self_attn.q_norm.weight")
    with pytest.raises(ModelNotReadyError) as caught:
        _pipeline_for(manager, _copy(checkpoint, tmp_path / "renamed", tensors=tensors))
    assert "missing tensors: encoder.layers.0.self_attn.q_norm.weight" in caught.value.message
    assert "unexpected tensors: encoder.layers.0.self_attn.q_norm.scale" in caught.value.message
    assert "Salesforce/moirai-2.0-R-small" in caught.value.message


def test_a_config_that_does_not_match_the_tensors_is_refused(manager, checkpoint, tmp_path) -> None:
    config = {**json.loads((checkpoint / "config.json").read_text()), "num_predict_token": 8}
    with pytest.raises(ModelNotReadyError, match=r"wrong shape tensors: out_proj\.output_layer\.bias"):
        _pipeline_for(manager, _copy(checkpoint, tmp_path / "eight", config=config))


def test_unreadable_files_are_refused(manager, checkpoint, tmp_path) -> None:
    folder = _copy(checkpoint, tmp_path / "broken")
    (folder / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ModelNotReadyError, match="cannot read the files"):
        _pipeline_for(manager, folder)
