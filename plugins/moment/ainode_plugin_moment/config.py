"""MOMENT's ``config.json`` as AutonLab/MOMENT-1-large publishes it, read into typed settings (no torch here).

The published layout is momentfm's, not a transformers ``PretrainedConfig``::

    {"task_name": "reconstruction", "model_name": "MOMENT", "transformer_type": "encoder_only",
     "d_model": null, "seq_len": 512, "patch_len": 8, "patch_stride_len": 8, "device": "cpu",
     "transformer_backbone": "google/flan-t5-large", "model_kwargs": {}, "t5_config": {...flan-t5-large...}}

Keys momentfm reads with a default (``revin_affine``, ``add_positional_embedding``, ``value_embedding_bias``)
take the same defaults here, so a config that leaves them out means what it means to momentfm. Anything that
would make momentfm build a different network than the one this plugin has (another head, a decoder, a stride
unlike the patch) is refused with a message naming the key.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ainode_core.errors import ModelNotReadyError

RECONSTRUCTION = "reconstruction"  # the only head momentfm pre-trains


@dataclass(frozen=True)
class MomentSettings:
    """What the network needs from ``config.json``; defaults are momentfm 0.1.4's."""

    t5_config: Mapping[str, Any]
    d_model: int
    seq_len: int = 512
    patch_len: int = 8
    revin_affine: bool = False
    add_positional_embedding: bool = True
    value_embedding_bias: bool = False


def read_settings(model_id: str, folder: Path) -> MomentSettings:
    """Parse ``folder/config.json``; raise :class:`ModelNotReadyError` saying which key to fix."""
    path = Path(folder) / "config.json"
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelNotReadyError(f"Model {model_id}: cannot read {path} ({exc}); put AutonLab/MOMENT-1-large's "
                                 "config.json there") from None
    return parse_settings(model_id, raw, path)


def parse_settings(model_id: str, raw: Any, where: Path | str = "config.json") -> MomentSettings:
    def refuse(what: str) -> ModelNotReadyError:
        return ModelNotReadyError(f"Model {model_id}: {where} {what}")

    if not isinstance(raw, Mapping) or not isinstance(raw.get("t5_config"), Mapping):
        raise refuse("has no 't5_config' section, so it is not a MOMENT checkpoint in momentfm's layout "
                     "(AutonLab/MOMENT-1-*)")
    task = raw.get("task_name", RECONSTRUCTION)
    if task != RECONSTRUCTION:
        raise refuse(f"has task_name {task!r}: this plugin serves MOMENT's pre-trained reconstruction head "
                     f"only; use a checkpoint with task_name {RECONSTRUCTION!r}")
    transformer_type = raw.get("transformer_type", "encoder_only")
    if transformer_type != "encoder_only":
        raise refuse(f"has transformer_type {transformer_type!r}; MOMENT-1 checkpoints are 'encoder_only'")
    t5 = dict(raw["t5_config"])
    d_model = _positive_int(raw.get("d_model") if raw.get("d_model") is not None else t5.get("d_model"),
                            "d_model (or t5_config.d_model)", refuse)
    if t5.get("d_model") not in (None, d_model):
        raise refuse(f"has d_model {d_model} but t5_config.d_model {t5.get('d_model')}; they must agree")
    t5["d_model"] = d_model
    patch_len = _positive_int(raw.get("patch_len", 8), "patch_len", refuse)
    stride = _positive_int(raw.get("patch_stride_len", patch_len), "patch_stride_len", refuse)
    if stride != patch_len:
        raise refuse(f"has patch_stride_len {stride} != patch_len {patch_len}; MOMENT's patches do not overlap")
    seq_len = _positive_int(raw.get("seq_len", 512), "seq_len", refuse)
    if seq_len % patch_len:
        raise refuse(f"has seq_len {seq_len}, not a multiple of patch_len {patch_len}")
    return MomentSettings(
        t5_config=t5, d_model=d_model, seq_len=seq_len, patch_len=patch_len,
        revin_affine=bool(raw.get("revin_affine", False)),
        add_positional_embedding=bool(raw.get("add_positional_embedding", True)),
        value_embedding_bias=bool(raw.get("value_embedding_bias", False)),
    )


def _positive_int(value: Any, name: str, refuse: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise refuse(f"has {name} = {value!r}; it must be a positive integer")
    return value
