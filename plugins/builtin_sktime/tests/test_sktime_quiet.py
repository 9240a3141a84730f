"""Estimator chatter (sktime FutureWarnings, statsmodels ConvergenceWarnings, hmmlearn log lines) never reaches
the node's log at WARNING: it is logged at DEBUG."""
from __future__ import annotations

import logging
import warnings

import numpy as np


def test_warnings_are_logged_at_debug_only(sktime_pipeline, caplog):
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        # every sktime forecaster warns about remember_data; Holt-Winters on zeros fails to converge
        sktime_pipeline("holtwinters").run([{"targets": np.zeros(48)}], output_length=3)
        # hmmlearn logs "degenerate solution" when fitting 2 states (7 parameters) to 6 rows
        sktime_pipeline("gaussian_hmm").run([{"targets": np.array([0.0, 0.1, 0.2, 5.0, 5.1, 5.2])}],
                                            n_components=2)
    assert escaped == []
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    debug_text = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)
    assert "FutureWarning" in debug_text and "ConvergenceWarning" in debug_text
    assert "degenerate" in debug_text
