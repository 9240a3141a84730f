"""The plugin as the node sees it: entry point, model type, built-in model, strict loading of the checkpoint."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from ainode_core.errors import ModelNotReadyError
from ainode_core.pipelines import AnomalyDetectionPipeline
from ainode_core.plugins import PluginManager
from ainode_core.testing.checks import heavy_imports_at_registration

# AutonLab/MOMENT-1-large's published tensor names, as momentfm 0.1.4 builds them (encoder blocks by pattern).
OFFICIAL_NAMES = {"patch_embedding.value_embedding.weight", "patch_embedding.mask_embedding",
                  "patch_embedding.position_embedding.pe", "encoder.embed_tokens.weight",
                  "encoder.final_layer_norm.weight", "head.linear.weight", "head.linear.bias",
                  "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"}
BLOCK_NAMES = ("layer.0.SelfAttention.q.weight", "layer.0.SelfAttention.k.weight", "layer.0.SelfAttention.v.weight",
               "layer.0.SelfAttention.o.weight", "layer.0.layer_norm.weight", "layer.1.DenseReluDense.wi_0.weight",
               "layer.1.DenseReluDense.wi_1.weight", "layer.1.DenseReluDense.wo.weight", "layer.1.layer_norm.weight")


def test_distribution_registers_moment_with_its_builtin(manager: PluginManager) -> None:
    listed = {entry["name"]: entry for entry in manager.listing(include_core=False)}
    assert listed["moment"]["distribution"] == "ainode-plugin-moment"
    assert listed["moment"]["errors"] == []

    registered = manager.model_type("moment")
    assert registered is not None and registered.plugin == "moment"
    spec = registered.record
    assert issubclass(spec.pipeline_cls, AnomalyDetectionPipeline)
    assert spec.tasks == ("anomaly_detection",)
    assert spec.capabilities == {"batching"}
    assert spec.finetune is None

    builtin, owner = manager.registry("builtin_models")["moment"].record
    assert owner is spec
    assert (builtin.task, builtin.hf_repo_id) == ("anomaly_detection", "AutonLab/MOMENT-1-large")
    assert builtin.weight_files == ("config.json", "model.safetensors")


def test_registration_does_not_import_torch() -> None:
    # Listing plugins/models must stay fast: torch and transformers load with the first instance only.
    assert heavy_imports_at_registration("moment", "moment", heavy=('torch', 'transformers', 'safetensors')) == []


def test_the_fixture_has_the_official_tensor_names(checkpoint: Path) -> None:
    names = set(load_file(checkpoint / "model.safetensors"))
    layers = json.loads((checkpoint / "config.json").read_text())["t5_config"]["num_layers"]
    expected = OFFICIAL_NAMES | {f"encoder.block.{i}.{name}" for i in range(layers) for name in BLOCK_NAMES}
    assert names == expected


def test_every_tensor_is_loaded_from_the_file(ours, checkpoint: Path) -> None:
    on_file = load_file(checkpoint / "model.safetensors")
    state = ours.model.state_dict()
    assert set(state) == set(on_file)
    for name, tensor in on_file.items():
        assert torch.equal(state[name], tensor.float()), name
    assert not ours.model.training


def _copy(checkpoint: Path, folder: Path) -> Path:
    shutil.copytree(checkpoint, folder)
    return folder


def _rewrite_tensors(folder: Path, change) -> None:
    tensors = load_file(folder / "model.safetensors")
    change(tensors)
    save_file(tensors, folder / "model.safetensors")


def test_missing_weights_file_is_named(build, checkpoint: Path, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text((checkpoint / "config.json").read_text())
    with pytest.raises(ModelNotReadyError, match=r"my_moment: model\.safetensors missing"):
        build(tmp_path, "my_moment")


@pytest.mark.parametrize(("change", "named"), [
    (lambda t: t.pop("head.linear.bias"), r"missing: head\.linear\.bias"),
    (lambda t: t.__setitem__("head.extra.weight", torch.zeros(2)), r"unexpected: head\.extra\.weight"),
    (lambda t: t.__setitem__("mask_token", t.pop("patch_embedding.mask_embedding")),
     r"missing: patch_embedding\.mask_embedding; unexpected: mask_token"),
    (lambda t: t.__setitem__("head.linear.weight", torch.zeros(16, 32)), r"wrong shape: head\.linear\.weight"),
])
def test_a_checkpoint_that_does_not_match_is_refused_by_name(build, checkpoint, tmp_path, change, named) -> None:
    folder = _copy(checkpoint, tmp_path / "m")
    _rewrite_tensors(folder, change)
    with pytest.raises(ModelNotReadyError, match=named):
        build(folder)


@pytest.mark.parametrize(("edit", "named"), [
    (lambda c: c.pop("t5_config"), "not a MOMENT checkpoint"),
    (lambda c: c.update(task_name="forecasting"), "task_name 'forecasting'"),
    (lambda c: c.update(patch_stride_len=4), "patch_stride_len 4"),
    (lambda c: c.update(transformer_type="encoder_decoder"), "transformer_type 'encoder_decoder'"),
    (lambda c: c.update(d_model=64), "t5_config.d_model 32"),
])
def test_a_config_momentfm_would_build_differently_is_refused(build, checkpoint, tmp_path, edit, named) -> None:
    folder = _copy(checkpoint, tmp_path / "m")
    config = json.loads((folder / "config.json").read_text())
    edit(config)
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelNotReadyError, match=named):
        build(folder)


@pytest.mark.parametrize(("flag", "tensors"), [
    ("revin_affine", {"normalizer.affine_weight": torch.ones(1, 1, 1), "normalizer.affine_bias": torch.zeros(1, 1, 1)}),
    ("value_embedding_bias", {"patch_embedding.value_embedding.bias": torch.zeros(32)}),
])
def test_the_tensors_of_momentfms_optional_flags_are_loaded(build, ours, checkpoint, tmp_path, flag, tensors) -> None:
    """revin_affine / value_embedding_bias add tensors under momentfm's names; at neutral values (as momentfm
    initialises them) the answers do not change."""
    folder = _copy(checkpoint, tmp_path / "m")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, flag: True}))
    with pytest.raises(ModelNotReadyError, match="missing: " + sorted(tensors)[0]):
        build(folder)
    _rewrite_tensors(folder, lambda t: t.update(tensors))
    values = [{"targets": np.sin(np.arange(200) / 7)}]
    np.testing.assert_allclose(build(folder).run(values, output="reconstruction")[0],
                               ours.run(values, output="reconstruction")[0], rtol=1e-6, atol=1e-6)


def test_half_precision_files_are_loaded_as_float32(build, checkpoint, tmp_path) -> None:
    folder = _copy(checkpoint, tmp_path / "m")
    _rewrite_tensors(folder, lambda t: t.update({k: v.to(torch.bfloat16) for k, v in t.items()}))
    pipeline = build(folder)
    assert {p.dtype for p in pipeline.model.state_dict().values()} == {torch.float32}
