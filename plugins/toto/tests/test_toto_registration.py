"""The plugin as the node sees it: entry point, model type, built-in model, and loading errors that name the fix."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import load_file, save_file

from ainode_core.errors import ModelNotReadyError
from ainode_core.pipelines import ForecastPipeline
from ainode_core.plugins import PluginManager
from ainode_core.testing.checks import heavy_imports_at_registration
from ainode_plugin_toto.testing import save_tiny_toto


def test_distribution_registers_toto_with_builtin_toto(manager: PluginManager) -> None:
    listed = {entry["name"]: entry for entry in manager.listing(include_core=False)}
    assert listed["toto"]["distribution"] == "ainode-plugin-toto"
    assert listed["toto"]["builtin"] is True
    assert listed["toto"]["errors"] == []

    registered = manager.model_type("toto")
    assert registered is not None and registered.plugin == "toto"
    spec = registered.record
    assert issubclass(spec.pipeline_cls, ForecastPipeline)
    assert spec.tasks == ("forecast",)
    assert spec.capabilities == {"batching", "quantiles", "sampling"}
    assert spec.estimated_size_bytes == 151_306_080 * 4

    builtin, owner = manager.registry("builtin_models")["toto"].record
    assert owner is spec
    # IoTDB 2.0.10's built-in: id toto, type toto, weights Datadog/Toto-Open-Base-1.0 (config.json + model.safetensors)
    assert (builtin.model_id, builtin.task, builtin.hf_repo_id) == ("toto", "forecast", "Datadog/Toto-Open-Base-1.0")
    assert builtin.weight_files == ("config.json", "model.safetensors")


def test_registration_does_not_import_torch() -> None:
    # Listing plugins/models must stay fast: torch, transformers and scipy load with the first instance only.
    assert heavy_imports_at_registration("toto", "toto", heavy=('torch', 'transformers', 'scipy')) == []


def _copy(checkpoint: Path, target: Path) -> Path:
    shutil.copytree(checkpoint, target)
    return target


def test_missing_weights_file_is_named(pipeline_for, checkpoint: Path, tmp_path: Path) -> None:
    folder = _copy(checkpoint, tmp_path / "toto")
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelNotReadyError, match=r"my_toto .*model\.safetensors missing.*Datadog/Toto-Open-Base-1\.0"):
        pipeline_for(folder, "my_toto")


def test_config_of_another_model_is_refused(pipeline_for, checkpoint: Path, tmp_path: Path) -> None:
    folder = _copy(checkpoint, tmp_path / "toto")
    (folder / "config.json").write_text(json.dumps({"d_model": 32, "model_type": "t5"}))
    with pytest.raises(ModelNotReadyError, match=r"config\.json lacks patch_size.*not a Toto config"):
        pipeline_for(folder)


def test_unsupported_scaler_names_the_key(pipeline_for, checkpoint: Path, tmp_path: Path) -> None:
    folder = _copy(checkpoint, tmp_path / "toto")
    config = json.loads((folder / "config.json").read_text())
    config["scaler_cls"] = "<class 'model.scaler.StdMeanScaler'>"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelNotReadyError, match=r"scaler_cls .*StdMeanScaler.* is not supported"):
        pipeline_for(folder)


def test_a_missing_or_stray_tensor_is_refused_by_name(pipeline_for, checkpoint: Path, tmp_path: Path) -> None:
    # IoTDB's loader is not strict: a missed tensor would silently stay random. Ours names it.
    folder = _copy(checkpoint, tmp_path / "toto")
    state = load_file(str(folder / "model.safetensors"))
    state["model.unembed.extra"] = state.pop("model.unembed.bias")
    save_file(state, str(folder / "model.safetensors"))
    with pytest.raises(ModelNotReadyError, match=r"missing tensors: model\.unembed\.bias; unexpected tensors: "
                                                 r"model\.unembed\.extra"):
        pipeline_for(folder)


def test_plain_pytorch_swiglu_names_load_too(pipeline_for, ours, checkpoint: Path, tmp_path: Path) -> None:
    # toto-ts saved without xFormers names the SwiGLU mlp.0 / mlp.2 (its pre_xformers layout): same model.
    folder = _copy(checkpoint, tmp_path / "toto")
    state = load_file(str(folder / "model.safetensors"))
    renamed = {name.replace("mlp.0.w12.", "mlp.0.").replace("mlp.0.w3.", "mlp.2."): value
               for name, value in state.items() if "rotary_emb" not in name}
    save_file(renamed, str(folder / "model.safetensors"))
    series = np.sin(np.arange(100) / 5.0)[None] * 10 + 50
    # equal up to float32 rounding: some CPUs' kernels sum in another order for another weight layout
    np.testing.assert_allclose(pipeline_for(folder).run([{"targets": series}], output_length=70)[0],
                               ours.run([{"targets": series}], output_length=70)[0], rtol=1e-6)


def test_tiny_test_checkpoint_loads(pipeline_for, tmp_path: Path) -> None:
    folder = save_tiny_toto(tmp_path / "toto", seed=3)
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    [forecast] = pipeline_for(folder).run([{"targets": np.linspace(1.0, 20.0, 90)}], output_length=5)
    assert forecast.shape == (1, 5) and np.isfinite(forecast).all()
