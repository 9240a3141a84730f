"""Loading a Toto checkpoint folder (``config.json`` + ``model.safetensors``, as published) onto a device.

Strict on purpose: every tensor of the model must come from the file and every tensor in the file must be
used (IoTDB's loader passes ``strict=False`` and would serve random weights for any name it missed). Two
naming variants toto-ts itself reads are accepted: the published one (xFormers' fused SwiGLU ``mlp.0.w12`` /
``mlp.0.w3``, our module names) and the one toto-ts writes without xFormers (``mlp.0`` / ``mlp.2``). The stored
rotary frequencies are dropped, as toto-ts does (they are fixed by the head size).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import torch
from safetensors.torch import load_file

from ainode_core.errors import ModelNotReadyError
from ainode_core.models.checkpoints import tensor_mismatch
from ainode_plugin_toto.configuration import REQUIRED_KEYS, TotoConfig
from ainode_plugin_toto.modeling import TotoForPrediction

WEIGHT_FILES = ("config.json", "model.safetensors")
HUB_REPO = "Datadog/Toto-Open-Base-1.0"
# toto-ts without xFormers saves the SwiGLU as Sequential(Linear, SwiGLU, Linear, Dropout)
_PLAIN_SWIGLU = re.compile(r"\.mlp\.(0|2)\.(weight|bias)$")


def _not_ready(model_id: str, folder: Path | None, problem: str) -> ModelNotReadyError:
    return ModelNotReadyError(
        f"Model {model_id} cannot be loaded from '{folder}': {problem}. The folder must hold {HUB_REPO}'s "
        "config.json and model.safetensors (or a checkpoint in the same format); wait until SHOW MODELS shows "
        "the model 'active', or copy both files there by hand for an offline install."
    )


def read_config(model_id: str, folder: Path) -> TotoConfig:
    try:
        raw = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except ValueError as exc:
        raise _not_ready(model_id, folder, f"config.json is not valid JSON ({exc})") from None
    missing = [key for key in REQUIRED_KEYS if key not in raw]
    if missing:
        raise _not_ready(model_id, folder, f"config.json lacks {', '.join(missing)}, so it is not a Toto config")
    try:
        config = TotoConfig(**raw)
    except (TypeError, ValueError) as exc:
        raise _not_ready(model_id, folder, f"config.json has a bad value ({exc})") from None
    problem = config.unsupported()
    if problem:
        raise _not_ready(model_id, folder, f"config.json: {problem}")
    return config


def _canonical(name: str) -> str:
    return _PLAIN_SWIGLU.sub(lambda m: f".mlp.0.{'w12' if m.group(1) == '0' else 'w3'}.{m.group(2)}", name)


def load_toto(model_id: str, path: Path | None, device: str) -> TotoForPrediction:
    """Our Toto model with the folder's weights, float32, in eval mode on ``device``."""
    folder = Path(path) if path is not None else None
    if folder is None or not folder.is_dir():
        raise _not_ready(model_id, folder, "the folder does not exist")
    absent = [name for name in WEIGHT_FILES if not (folder / name).is_file()]
    if absent:
        raise _not_ready(model_id, folder, f"{' and '.join(absent)} missing")
    config = read_config(model_id, folder)
    try:
        stored = load_file(str(folder / "model.safetensors"))
    except Exception as exc:  # safetensors has its own error types for truncated or corrupt files
        raise _not_ready(model_id, folder, f"model.safetensors cannot be read ({exc})") from None
    state = {_canonical(name): tensor for name, tensor in stored.items() if not name.endswith("rotary_emb.freqs")}

    with torch.device("meta"):  # no random init: every weight comes from the file
        model = TotoForPrediction(config)
    mismatch = tensor_mismatch(model.state_dict(), state)
    if mismatch:
        raise _not_ready(model_id, folder, f"model.safetensors does not match config.json ({mismatch})")
    model.load_state_dict({name: tensor.to(torch.float32) for name, tensor in state.items()}, strict=True,
                          assign=True)
    # buffers (rotary frequencies) were made on the meta device: rebuild them for real
    model.model.transformer.rotary_emb = type(model.model.transformer.rotary_emb)(config.head_dim)
    return model.to(device).eval()
