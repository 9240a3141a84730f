"""Progress bars (tqdm, on stderr) for waiting on the node: registration and fine-tuning.

The node reports progress only as its SHOW MODELS reason text ("epoch 2/3 iteration 40/50 loss 0.03",
"fetching weights: 12 MB of 80 MB (15%)"). The bar shows that text as its postfix and fills in proportion
to a percentage in it, else to its ``a/b`` counters (nested counters: the first is the outer loop).
"""
from __future__ import annotations

import re
import sys
from typing import TextIO

_COUNTER = re.compile(r"(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
STEPS = 1000  # bar resolution


def fraction_done(reason: str) -> float | None:
    """``"epoch 2/4 iteration 5/10"`` → 0.25 + 0.25 * 0.5 = 0.375; ``"... (15%)"`` → 0.15; ``None`` when the
    text has neither."""
    percent = _PERCENT.search(reason)
    if percent is not None:
        return min(float(percent.group(1)) / 100, 1.0)
    counters = [(float(a), float(b)) for a, b in _COUNTER.findall(reason) if float(b) > 0]
    if not counters:
        return None
    done, scale = 0.0, 1.0
    for position, (current, total) in enumerate(counters):
        inner_follows = position < len(counters) - 1
        # An outer counter names the loop we are in (1-based), so only current-1 of them are finished.
        finished = current - 1 if inner_follows and current >= 1 else current
        done += scale * min(max(finished, 0.0), total) / total
        scale /= total
    return min(done, 1.0)


class ReasonBar:
    """A callable for the client's ``progress=``: each call moves the bar to the new reason."""

    def __init__(self, description: str, *, file: TextIO | None = None, disable: bool = False) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=STEPS, desc=description, file=file or sys.stderr, disable=disable,
                         bar_format="{desc}: {percentage:3.0f}%|{bar:20}| [{elapsed}{postfix}]", leave=True)

    def __call__(self, reason: str) -> None:
        fraction = fraction_done(reason)
        if fraction is not None:
            self._bar.n = int(fraction * STEPS)
        self._bar.set_postfix_str(reason, refresh=True)

    def close(self, final_state: str | None = None) -> None:
        if final_state == "active":
            self._bar.n = STEPS
        if final_state is not None:
            self._bar.set_postfix_str(final_state, refresh=True)
        self._bar.close()

    def __enter__(self) -> "ReasonBar":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
