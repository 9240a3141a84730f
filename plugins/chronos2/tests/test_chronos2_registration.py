"""The plugin as the node sees it: entry point, model type, built-in model, loading errors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ainode_core.errors import ModelNotReadyError
from ainode_core.pipelines import ForecastPipeline
from ainode_core.pipelines.base import ModelInfo
from ainode_core.plugins import PluginManager
from ainode_core.testing.checks import heavy_imports_at_registration


def test_distribution_registers_t5_with_builtin_chronos2(manager: PluginManager) -> None:
    listed = {entry["name"]: entry for entry in manager.listing(include_core=False)}
    assert listed["chronos2"]["distribution"] == "ainode-plugin-chronos2"
    assert listed["chronos2"]["builtin"] is True
    assert listed["chronos2"]["errors"] == []

    registered = manager.model_type("t5")
    assert registered is not None and registered.plugin == "chronos2"
    spec = registered.record
    assert issubclass(spec.pipeline_cls, ForecastPipeline)
    assert spec.tasks == ("forecast",)
    assert spec.capabilities == {"batching", "covariates", "quantiles", "finetune"}
    assert callable(spec.finetune)

    builtin, owner = manager.registry("builtin_models")["chronos2"].record
    assert owner is spec
    assert (builtin.task, builtin.hf_repo_id) == ("forecast", "amazon/chronos-2")
    assert builtin.weight_files == ("config.json", "model.safetensors")


def test_registration_does_not_import_torch() -> None:
    # Listing plugins/models must stay fast: torch and chronos load with the first instance only.
    assert heavy_imports_at_registration("chronos2", "t5", heavy=('torch', 'chronos')) == []


def _pipeline_for(manager: PluginManager, folder: Path):
    spec = manager.model_type("t5").record
    return spec.pipeline_cls(ModelInfo(model_id="my_chronos", model_type="t5", path=folder), device="cpu")


def test_missing_weights_file_is_named(manager: PluginManager, checkpoint: Path, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text((checkpoint / "config.json").read_text())
    with pytest.raises(ModelNotReadyError, match=r"my_chronos: model\.safetensors missing"):
        _pipeline_for(manager, tmp_path)


def test_config_without_chronos_section_is_refused(manager: PluginManager, checkpoint: Path,
                                                   tmp_path: Path) -> None:
    config = json.loads((checkpoint / "config.json").read_text())
    del config["chronos_config"]
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "model.safetensors").write_bytes((checkpoint / "model.safetensors").read_bytes())
    with pytest.raises(ModelNotReadyError, match="not a Chronos-2 checkpoint"):
        _pipeline_for(manager, tmp_path)
