"""Comparing a checkpoint's tensors with what a model expects, for loaders that load strictly by name.

transformers' ``from_pretrained`` only warns about a missing tensor and fills it with random values, which
serves confident nonsense; a plugin's loader compares names and shapes first and refuses the folder with the
text this returns. Works on anything with a ``.shape`` (torch tensors, numpy arrays): no torch import here.
"""
from __future__ import annotations

from typing import Any, Mapping

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
