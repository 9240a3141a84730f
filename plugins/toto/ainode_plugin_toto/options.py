"""Request options Toto understands, parsed into plain values (no torch here).

Options arrive as strings over Thrift (``num_samples='64'``, IoTDB's own Toto breaks on exactly that) or as
Python values from the client; names are matched like the core does (``numSamples`` = ``num_samples``).

* ``quantiles``: the core's format (:mod:`ainode_core.pipelines.quantiles`, as Chronos-2 and Moirai-2 read it) —
  ``"0.1,0.5,0.9"`` (or ``"[0.1, 0.9]"``, or a list), levels in the caller's order, each once, within
  [0.01, 0.99]; ``"all"`` = Chronos-2's 21 levels, so both answer ``"all"`` with the same rows (Toto predicts a
  continuous distribution, not fixed levels; its tails come from the sampled paths, hence the range).
  Absent or empty: the point forecast.
* ``num_samples`` (1 … 10000): sample that many paths (autoregressively, each fed its own draws). Without
  ``quantiles`` the answer is their mean (what toto-ts and IoTDB mean by it); with ``quantiles``, the
  quantiles of the paths (default 256 paths then). Absent and no ``quantiles``: the mixture's mean decoded
  patch by patch, as IoTDB's AINode answers.
* ``seed`` (0 … 2**32-1, default 0): the draws; the same request always gives the same answer.
* ``samples_per_batch``: accepted for IoTDB compatibility; only bounds how many paths run at once (memory),
  the answer does not depend on it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.pipelines.quantiles import QUANTILES_OPTION as QUANTILES
from ainode_core.pipelines.quantiles import parse_quantile_levels
from ainode_core.pipelines.validation import normalise_option

OUTPUT_LENGTH = "output_length"
NUM_SAMPLES = "num_samples"
SEED = "seed"
SAMPLES_PER_BATCH = "samples_per_batch"
OPTION_NAMES = (QUANTILES, NUM_SAMPLES, SEED, SAMPLES_PER_BATCH)

# what "all" means (Chronos-2's levels); their ends are the range a request may ask for
LEVELS = (0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
          0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99)
QUANTILE_SAMPLES = 256  # paths behind quantiles when num_samples is not given (toto recommends >= 128)
MAX_SAMPLES = 10_000
MAX_SEED = 2**32 - 1
MAX_HORIZON = 1_000_000  # the node caps requests lower (2880 by default); this only guards direct callers


@dataclass(frozen=True)
class TotoOptions:
    horizon: int  # output_length: the steps to forecast
    quantiles: tuple[float, ...] | None  # None: a point forecast
    num_samples: int | None  # None: the mean decoded without sampling
    seed: int
    samples_per_batch: int | None


def parse_options(options: Mapping[str, Any], defaults: Mapping[str, Any] | None = None) -> TotoOptions:
    """The model's defaults overridden by the request; raises 1512 naming the option and what to send."""
    merged = {normalise_option(key): value for key, value in (defaults or {}).items()}
    merged.update({normalise_option(key): value for key, value in options.items()})
    horizon = _integer(merged, OUTPUT_LENGTH, 1, MAX_HORIZON)
    if horizon is None:
        raise InvalidInferenceConfigError(f"Option {OUTPUT_LENGTH} is required: the number of steps to forecast")
    levels = parse_quantile_levels(merged.get(QUANTILES), LEVELS)
    num_samples = _integer(merged, NUM_SAMPLES, 1, MAX_SAMPLES)
    if levels is not None and num_samples is None:
        num_samples = QUANTILE_SAMPLES
    seed = _integer(merged, SEED, 0, MAX_SEED)
    return TotoOptions(horizon, levels, num_samples, 0 if seed is None else seed,
                       _integer(merged, SAMPLES_PER_BATCH, 1, MAX_SAMPLES))


def _integer(options: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    value = options.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value.strip()) if isinstance(value, str) else value
        if isinstance(number, float) and not number.is_integer():
            raise ValueError
        number = int(number)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInferenceConfigError(
            f"Option {name} must be a whole number between {low} and {high}, got {value!r}") from None
    if not low <= number <= high:
        raise InvalidInferenceConfigError(
            f"Option {name} must be between {low} and {high}, got {number}")
    return number
