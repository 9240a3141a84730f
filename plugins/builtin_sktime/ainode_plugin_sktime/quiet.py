"""Keep sktime / statsmodels / pmdarima / hmmlearn chatter out of the node's log.

These libraries warn on nearly every fit (sktime's ``remember_data`` FutureWarning, statsmodels'
ConvergenceWarning, hmmlearn's "degenerate solution" log line). A user cannot act on them, so they are
logged here at DEBUG instead of reaching the log at WARNING.

``warnings.catch_warnings`` swaps process-wide state, so it is not safe in two threads at once;
:data:`ESTIMATOR_LOCK` makes in-process estimator work one-at-a-time, which costs nothing because that work holds
the GIL anyway.
"""
from __future__ import annotations

import logging
import threading
import warnings
from contextlib import contextmanager
from typing import Iterator

log = logging.getLogger("ainode_plugin_sktime")

# Held around in-process estimator work (process-wide warning filters, BLAS thread limits). Re-entrant.
ESTIMATOR_LOCK = threading.RLock()

# Loggers of the estimator libraries that emit WARNING records during ordinary fits.
_CHATTY_LOGGERS = ("hmmlearn.base", "hmmlearn.hmm", "hmmlearn._emissions", "pmdarima", "statsmodels")


class _DemoteToDebug(logging.Filter):
    """Rewrites the record's level so WARNING-level handlers drop it (a logger filter runs before any
    handler sees the record, in this process and in worker processes alike)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


def install_log_filters() -> None:
    for name in _CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DemoteToDebug) for f in logger.filters):
            logger.addFilter(_DemoteToDebug())


@contextmanager
def quiet_estimators() -> Iterator[None]:
    """Run estimator code with its warnings captured and logged once each at DEBUG."""
    with ESTIMATOR_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            _log_once_each(caught)


def _log_once_each(caught: list[warnings.WarningMessage]) -> None:
    seen: set[tuple[str, str]] = set()
    for warning in caught:
        key = (warning.category.__name__, str(warning.message))
        if key not in seen:
            seen.add(key)
            log.debug("%s from %s:%s: %s", key[0], warning.filename, warning.lineno, key[1])


install_log_filters()
