"""Loading a MOMENT checkpoint folder (``config.json`` + ``model.safetensors``) onto a device, strictly.

Every tensor of the file must find its place in the network and every place must be filled from the file: a
checkpoint whose names or shapes differ (another model, a fine-tuned head, a renamed layer) is refused with
the names, never served from random weights. The network is built on the ``meta`` device and the file's
tensors are assigned to it, so loading MOMENT-1-large costs no random initialisation of 346M parameters.
"""
from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from ainode_core.errors import ModelNotReadyError
from ainode_core.models.checkpoints import weights_folder
from ainode_plugin_moment.config import MomentSettings, read_settings
from ainode_plugin_moment.modeling import MomentReconstruction

SHOWN = 5  # names listed in a mismatch message


def load_moment(model_id: str, path: Path | None, device: str) -> MomentReconstruction:
    """The network of ``path`` in eval mode, float32, on ``device``."""
    folder = weights_folder(model_id, path, "AutonLab/MOMENT-1-large")
    settings = read_settings(model_id, folder)
    state = {name: tensor.float() for name, tensor in load_file(folder / "model.safetensors").items()}
    model = build_strict(model_id, settings, state)
    return model.to(device).eval()


def build_strict(model_id: str, settings: MomentSettings, state: dict[str, torch.Tensor]) -> MomentReconstruction:
    """The network for ``settings`` holding exactly the tensors of ``state`` (names and shapes checked)."""
    with torch.device("meta"):
        model = MomentReconstruction(settings)
    expected = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}
    absent = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(f"{name} {list(state[name].shape)} (config.json says {list(shape)})"
                   for name, shape in expected.items() if name in state and tuple(state[name].shape) != shape)
    problems = [f"{what}: {', '.join(names[:SHOWN])}{' ...' if len(names) > SHOWN else ''}"
                for what, names in (("missing", absent), ("unexpected", unexpected), ("wrong shape", wrong))
                if names]
    if problems:
        raise ModelNotReadyError(
            f"Model {model_id}: model.safetensors does not match its config.json as a MOMENT checkpoint "
            f"({'; '.join(problems)}); use AutonLab/MOMENT-1-* files unchanged (config.json and "
            "model.safetensors from the same repository)")
    model.load_state_dict(state, strict=True, assign=True)
    model.requires_grad_(False)
    return model
