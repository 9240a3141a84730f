"""Anomaly detection: one label per input row, equal to sktime's own, finding what was planted."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from sktime.detection.hmm_learn import GMMHMM, GaussianHMM
from sktime.detection.stray import STRAY

from ainode_core.errors import InvalidInferenceConfigError

HMM_DEFAULTS = dict(covariance_type="diag", n_iter=10, tol=0.01, algorithm="viterbi", random_state=0)


def regimes(seed: int = 0) -> np.ndarray:
    """100 rows around 0, 100 around 10, 100 around 0: two clearly separated states."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(0, 1, 100), rng.normal(10, 1, 100), rng.normal(0, 1, 100)])


def with_outliers(seed: int = 1) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    values = rng.normal(0, 1, 300)
    planted = [40, 150, 260]
    values[planted] = [12.0, -11.0, 14.0]
    return values, planted


def direct_labels(estimator, values: np.ndarray) -> np.ndarray:
    column = values.reshape(-1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if isinstance(estimator, STRAY):
            return np.asarray(estimator.fit_transform(column), dtype=np.float64).reshape(-1)
        return np.asarray(estimator.fit(column).transform(column), dtype=np.float64).reshape(-1)


def test_stray_flags_the_planted_outliers(sktime_pipeline):
    values, planted = with_outliers()
    [flags] = sktime_pipeline("stray").run([{"targets": values}])
    assert flags.shape == (1, values.size)
    assert set(np.unique(flags)) <= {0.0, 1.0}
    flagged = set(np.flatnonzero(flags[0]))
    assert set(planted) <= flagged and len(flagged) <= len(planted) + 3
    np.testing.assert_array_equal(flags[0], direct_labels(STRAY(alpha=0.01, k=10, knn_algorithm="brute", p=0.5,
                                                                 size_threshold=50, outlier_tail="max"), values))


@pytest.mark.parametrize(("model_id", "make"), [
    ("gaussian_hmm", lambda: GaussianHMM(n_components=2, **HMM_DEFAULTS)),
    ("gmm_hmm", lambda: GMMHMM(n_components=2, n_mix=1, **HMM_DEFAULTS)),
])
def test_hmms_label_each_row_with_its_regime(sktime_pipeline, model_id, make):
    values = regimes()
    [labels] = sktime_pipeline(model_id).run([{"targets": values}], n_components="2")
    assert labels.shape == (1, 300)
    first, middle, last = labels[0][:100], labels[0][100:200], labels[0][200:]
    assert len(set(first)) == 1 and len(set(middle)) == 1 and set(first) == set(last)
    assert first[0] != middle[0]
    np.testing.assert_array_equal(labels[0], direct_labels(make(), values))


def test_default_hmm_has_one_state(sktime_pipeline):
    [labels] = sktime_pipeline("gaussian_hmm").run([{"targets": regimes()}])
    assert set(labels[0]) == {0.0}


def test_each_variate_gets_its_own_labels(sktime_pipeline):
    values, planted = with_outliers()
    targets = np.stack([values, regimes()])
    [flags] = sktime_pipeline("stray").run([{"targets": targets}])
    assert flags.shape == (2, 300)
    for variate in range(2):
        np.testing.assert_array_equal(flags[variate], direct_labels(STRAY(), targets[variate]))


def test_null_rows_get_no_label_and_the_rest_stay_aligned(sktime_pipeline):
    values = regimes()
    missing = [0, 150, 151, 299]
    with_nulls = values.copy()
    with_nulls[missing] = np.nan
    [labels] = sktime_pipeline("gaussian_hmm").run([{"targets": with_nulls}], n_components=2)
    assert np.isnan(labels[0][missing]).all()
    kept = np.delete(values, missing)
    expected = direct_labels(GaussianHMM(n_components=2, **HMM_DEFAULTS), kept)
    np.testing.assert_array_equal(np.delete(labels[0], missing), expected)


@pytest.mark.parametrize(("model_id", "options", "named"), [
    ("gaussian_hmm", {"n_components": "0"}, "n_components"),
    ("gaussian_hmm", {"covariance_type": "weird"}, "covariance_type"),
    ("gmm_hmm", {"n_mix": "1.5"}, "n_mix"),
    ("stray", {"alpha": "1.5"}, "alpha"),
    ("stray", {"outlier_tail": "both"}, "outlier_tail"),
    ("stray", {"n_components": "2"}, "n_components"),
])
def test_bad_options_are_1512_naming_the_option(sktime_pipeline, model_id, options, named):
    with pytest.raises(InvalidInferenceConfigError) as caught:
        sktime_pipeline(model_id).run([{"targets": regimes()}], **options)
    assert named in caught.value.message


@pytest.mark.parametrize(("model_id", "rows", "options", "needs"), [
    ("stray", 8, {}, "11 values"),
    ("gaussian_hmm", 2, {"n_components": "3"}, "3 values"),
])
def test_too_short_input_is_1512(sktime_pipeline, model_id, rows, options, needs):
    with pytest.raises(InvalidInferenceConfigError) as caught:
        sktime_pipeline(model_id).run([{"targets": regimes()[:rows]}], **options)
    assert needs in caught.value.message


@pytest.mark.parametrize("model_id", ["gaussian_hmm", "gmm_hmm", "stray"])
def test_nan_only_input_is_1512(sktime_pipeline, model_id):
    with pytest.raises(InvalidInferenceConfigError) as caught:
        sktime_pipeline(model_id).run([{"targets": np.full(64, np.nan)}])
    assert "no values" in caught.value.message


def test_constant_series_the_model_cannot_fit_is_1512(sktime_pipeline):
    with pytest.raises(InvalidInferenceConfigError) as caught:
        sktime_pipeline("gmm_hmm").run([{"targets": np.full(64, 3.0)}], n_components=2)
    assert "constant" in caught.value.message and "input 0 variate 0" in caught.value.message
