"""Load an official-format folder (``config.json`` + ``model.safetensors``) into one of our model classes.

Loading is strict on purpose: transformers' ``from_pretrained`` only warns about missing weights and fills
them with random values, which would serve confident nonsense. Here a missing file, a missing or
unexpected tensor, or a shape mismatch is a :class:`ModelNotReadyError` that names the folder and the fix.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

import torch
from safetensors.torch import load_file
from transformers import PreTrainedModel

from ainode_core.errors import ModelNotReadyError
from ainode_core.models.checkpoints import tensor_mismatch

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"

ModelT = TypeVar("ModelT", bound=PreTrainedModel)


def _not_ready(model_id: str, folder: Path | None, problem: str) -> ModelNotReadyError:
    where = f"'{folder}'" if folder is not None else "(no folder)"
    return ModelNotReadyError(
        f"Model {model_id} cannot be loaded from {where}: {problem}. The folder must hold the official "
        f"{CONFIG_FILE} and {WEIGHTS_FILE}; wait until SHOW MODELS shows the model 'active' (weights are "
        "fetched on first use), or copy both files there by hand for an offline install."
    )


def load_pretrained(
    model_cls: type[ModelT], folder: Path | str | None, device: str | torch.device = "cpu", model_id: str = "model"
) -> ModelT:
    folder = Path(folder) if folder is not None else None
    if folder is None or not folder.is_dir():
        raise _not_ready(model_id, folder, "the model folder does not exist")
    missing_files = [name for name in (CONFIG_FILE, WEIGHTS_FILE) if not (folder / name).is_file()]
    if missing_files:
        raise _not_ready(model_id, folder, f"{' and '.join(missing_files)} not found")
    try:
        with open(folder / CONFIG_FILE, encoding="utf-8") as handle:
            config_dict = json.load(handle)
        config = model_cls.config_class.from_dict(config_dict)
    except (ValueError, TypeError) as exc:
        raise _not_ready(model_id, folder, f"{CONFIG_FILE} is not a valid config ({exc})") from exc
    try:
        state = load_file(str(folder / WEIGHTS_FILE))
    except Exception as exc:  # safetensors raises its own error types for truncated/corrupt files
        raise _not_ready(model_id, folder, f"{WEIGHTS_FILE} cannot be read ({exc})") from exc

    # Build on the meta device: no time spent on a random init that the checkpoint overwrites anyway.
    with torch.device("meta"):
        model = model_cls(config)
    mismatch = tensor_mismatch(model.state_dict(), state)
    if mismatch:
        raise _not_ready(model_id, folder, f"{WEIGHTS_FILE} does not match {CONFIG_FILE} ({mismatch})")
    # Checkpoints may be stored in half precision; inference runs in float32 as the originals do.
    state = {name: tensor.to(torch.float32) for name, tensor in state.items()}
    model.load_state_dict(state, strict=True, assign=True)
    return model.to(device).eval()
