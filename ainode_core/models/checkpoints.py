"""Comparing a checkpoint's tensors with what a model expects, for loaders that load strictly by name.

transformers' ``from_pretrained`` only warns about a missing tensor and fills it with random values, which
serves confident nonsense; a plugin's loader compares names and shapes first and refuses the folder with the
text this returns. Works on anything with a ``.shape`` (torch tensors, numpy arrays): no torch import here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ainode_core.errors import ModelNotReadyError

SHOWN = 5  # names listed per kind of problem; the rest are counted


def tensor_mismatch(expected: Mapping[str, Any], found: Mapping[str, Any]) -> str:
    """``""`` when ``found`` has exactly the names of ``expected`` with the same shapes, else what differs:
    ``"missing tensors: a, b; unexpected tensors: c; wrong shape tensors: d"``."""
    problems = []
    for label, names in (("missing", sorted(set(expected) - set(found))),
                         ("unexpected", sorted(set(found) - set(expected))),
                         ("wrong shape", sorted(name for name in set(expected) & set(found)
                                                if tuple(expected[name].shape) != tuple(found[name].shape)))):
        if names:
            more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
            problems.append(f"{label} tensors: {', '.join(names[:SHOWN])}{more}")
    return "; ".join(problems)


WEIGHT_FILES = ("config.json", "model.safetensors")  # what a built-in's weights folder holds


def weights_folder(model_id: str, path: Path | str | None, official: str) -> Path:
    """The model's weights folder, checked to hold :data:`WEIGHT_FILES`; otherwise ``ModelNotReadyError``
    naming what is missing and where ``official``'s files go (``official``: the hub repository, e.g.
    ``amazon/chronos-2``)."""
    if path is None:
        raise ModelNotReadyError(f"Model {model_id} has no weights folder yet; wait until it is active")
    folder = Path(path)
    missing = [name for name in WEIGHT_FILES if not (folder / name).is_file()]
    if missing:
        raise ModelNotReadyError(
            f"Model {model_id}: {', '.join(missing)} missing in {folder}; put {official}'s config.json and "
            "model.safetensors there (or re-register the model)")
    return folder
