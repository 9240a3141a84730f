"""Request options the Chronos-2 pipeline understands: ``quantiles``, parsed by the core's shared parser
(:mod:`ainode_core.pipelines.quantiles`), so every model with quantiles reads the option the same way.

* absent or empty: the median only, one row per target (``[C, H]``);
* ``"0.1,0.5,0.9"`` (a string, as options arrive over Thrift) or ``[0.1, 0.5, 0.9]``: those levels, in
  that order;
* ``"all"``: every level the model was trained on (21 for amazon/chronos-2).

Levels between two of the model's levels are interpolated linearly (as ``Chronos2Pipeline.predict_quantiles``
does); levels outside the model's range are rejected instead of being silently clamped.
"""
from __future__ import annotations

from ainode_core.pipelines.quantiles import ALL_LEVELS, MEDIAN, QUANTILES_OPTION, parse_quantile_levels

__all__ = ["ALL_LEVELS", "MEDIAN", "QUANTILES_OPTION", "parse_quantile_levels"]
