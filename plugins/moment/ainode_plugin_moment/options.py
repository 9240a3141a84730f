"""Request options of the MOMENT pipeline, parsed into plain values (no torch here).

* ``output``: what comes back for every input row, per column —
  ``label`` (default: 1 = anomalous, 0 = normal, as the other anomaly models answer), ``score`` (squared
  reconstruction error, momentfm's ``mse`` anomaly criterion; NaN on a missing row), ``imputed`` (the input
  with every missing row filled from the reconstruction) or ``reconstruction`` (the model's reconstruction).
* ``threshold``: the robust z-score (median / MAD of the reconstruction errors of one column) above which a
  row is labelled 1; default 3.5. Only ``output=label`` reads it.

Options arrive as strings over Thrift (``threshold='3'``); both spellings are accepted.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.pipelines.validation import normalise_option

OUTPUT_OPTION = "output"
THRESHOLD_OPTION = "threshold"
OUTPUTS = ("label", "score", "imputed", "reconstruction")
DEFAULT_THRESHOLD = 3.5  # Iglewicz & Hoaglin's cut-off for the modified z-score


@dataclass(frozen=True)
class MomentOptions:
    output: str = "label"
    threshold: float = DEFAULT_THRESHOLD


def parse_options(options: Mapping[str, Any]) -> MomentOptions:
    """Raise :class:`InvalidInferenceConfigError` (1512) naming the option and what to send instead."""
    options = {normalise_option(key): value for key, value in options.items()}  # 'Output' is 'output'
    output = str(options.get(OUTPUT_OPTION) or "label").strip().lower()
    if output not in OUTPUTS:
        raise InvalidInferenceConfigError(
            f"Option {OUTPUT_OPTION}={options.get(OUTPUT_OPTION)!r} is not one of {', '.join(OUTPUTS)}; e.g. "
            f"output='score' for reconstruction errors or output='imputed' to fill missing values")
    raw = options.get(THRESHOLD_OPTION)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return MomentOptions(output=output)
    try:
        threshold = float(raw)
    except (TypeError, ValueError):
        threshold = math.nan
    if not math.isfinite(threshold) or threshold <= 0:
        raise InvalidInferenceConfigError(
            f"Option {THRESHOLD_OPTION}={raw!r} must be a positive number (a robust z-score; default "
            f"{DEFAULT_THRESHOLD:g}); a larger value flags fewer rows")
    return MomentOptions(output=output, threshold=threshold)
