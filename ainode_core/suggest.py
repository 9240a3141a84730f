""""Did you mean ...?" for a name that is not known: config keys, hyperparameters, options, model ids."""
from __future__ import annotations

import difflib
from typing import Iterable, Mapping

CUTOFF = 0.6  # difflib's ratio: train_epoch/train_epochs and ain_rpc_prot/ain_rpc_port pass, unrelated names not


def did_you_mean(name: str, candidates: Iterable[str] | Mapping[str, str]) -> str:
    """`` Did you mean 'x'?`` for the closest candidate, or ``""`` when none is close, so a message can append
    it unconditionally. With a mapping, ``name`` is compared with its keys (e.g. normalised names) and the
    value is shown (the name as the user should write it)."""
    shown = dict(candidates) if isinstance(candidates, Mapping) else {item: item for item in candidates}
    close = difflib.get_close_matches(name, list(shown), n=1, cutoff=CUTOFF)
    return f" Did you mean '{shown[close[0]]}'?" if close else ""
