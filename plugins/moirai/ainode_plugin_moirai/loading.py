"""Loading the official Moirai-2 folder (``config.json`` + ``model.safetensors``) strictly by tensor name.

transformers' ``from_pretrained`` would only warn about a missing tensor and fill it with random values (IoTDB's
own MOMENT serves exactly such weights); here any missing, unexpected or misshapen tensor is a
:class:`ModelNotReadyError` that names the folder, the tensors and what to put there instead.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from ainode_core.errors import ModelNotReadyError
from ainode_core.models.checkpoints import tensor_mismatch
from ainode_plugin_moirai.configuration import Moirai2Config
from ainode_plugin_moirai.modeling import Moirai2Model

WEIGHT_FILES = ("config.json", "model.safetensors")
OFFICIAL = "Salesforce/moirai-2.0-R-small"


def load_moirai2(model_id: str, path: Path | None, device: str) -> Moirai2Model:
    """Our Moirai-2 with the folder's weights, in float32 and eval mode on ``device``."""
    folder = Path(path) if path is not None else None
    if folder is None or not folder.is_dir():
        raise ModelNotReadyError(f"Model {model_id} has no weights folder yet; wait until SHOW MODELS shows it "
                                 f"active (or copy {OFFICIAL}'s {' and '.join(WEIGHT_FILES)} into its folder)")
    missing = [name for name in WEIGHT_FILES if not (folder / name).is_file()]
    if missing:
        raise _unusable(model_id, folder, f"{', '.join(missing)} missing")
    try:
        config = Moirai2Config.from_dict(json.loads((folder / "config.json").read_text("utf-8")))
        state = load_file(str(folder / "model.safetensors"))
    except Exception as exc:  # bad JSON, bad keys, a truncated safetensors file: all mean "not these files"
        raise _unusable(model_id, folder, f"cannot read the files ({type(exc).__name__}: {exc})") from exc
    if config.d_model % 64 or config.d_model < 64:
        raise _unusable(model_id, folder, f"d_model is {config.d_model}; Moirai-2 needs a multiple of 64")

    with torch.device("meta"):  # no time spent on random weights the checkpoint replaces anyway
        model = Moirai2Model(config)
    mismatch = tensor_mismatch(model.state_dict(), state)
    if mismatch:
        raise _unusable(model_id, folder, f"model.safetensors does not match config.json ({mismatch})")
    model.load_state_dict({name: tensor.float() for name, tensor in state.items()}, strict=True, assign=True)
    return model.to(device).eval()


def _unusable(model_id: str, folder: Path, problem: str) -> ModelNotReadyError:
    return ModelNotReadyError(
        f"Model {model_id} cannot be loaded from {folder}: {problem}; put {OFFICIAL}'s config.json and "
        "model.safetensors there (the files uni2ts' Moirai2Module publishes)"
    )
