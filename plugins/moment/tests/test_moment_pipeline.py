"""What MOMENT answers and refuses: labels, scores, imputation, output_length, bad input (forecasts:
test_moment_forecast.py)."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from ainode_core.errors import AINodeError, InvalidInferenceConfigError
from ainode_plugin_moment.pipeline import MomentPipeline


def seasonal(length: int, seed: int = 0, spikes: tuple[int, ...] = ()) -> np.ndarray:
    rng = np.random.default_rng(seed)
    steps = np.arange(length)
    values = 10 + np.sin(2 * np.pi * steps / 24) + 0.1 * rng.standard_normal(length)
    values[list(spikes)] += 8.0
    return values


def test_labels_are_0_1_per_row_and_flag_planted_spikes(ours: MomentPipeline) -> None:
    planted = (100, 350, 580)
    (labels,) = ours.run([{"targets": seasonal(600, spikes=planted)}])
    assert labels.shape == (1, 600) and set(np.unique(labels)) <= {0.0, 1.0}
    flagged = set(np.flatnonzero(labels[0]))
    assert set(planted) <= flagged and len(flagged) <= len(planted) + 3  # random weights: a few false alarms


def test_threshold_trades_flags(ours: MomentPipeline) -> None:
    values = seasonal(512, spikes=(100, 300))
    counts = [ours.run([{"targets": values}], threshold=t)[0].sum() for t in ("2", "3.5", "1000")]
    assert counts[0] >= counts[1] >= 2 and counts[2] == 0


def test_output_length_keeps_the_first_rows_like_every_anomaly_model(ours: MomentPipeline) -> None:
    values = np.stack([seasonal(300, 1), seasonal(300, 2)])
    (full,) = ours.run([{"targets": values}], output="score")
    (first,) = ours.run([{"targets": values}], output="score", output_length=40)
    assert first.shape == (2, 40)
    np.testing.assert_array_equal(first, full[:, :40])
    with pytest.raises(InvalidInferenceConfigError, match="output_length is 301"):
        ours.run([{"targets": values}], output_length=301)


def test_missing_rows_are_not_labelled_have_no_score_and_are_imputed(ours: MomentPipeline) -> None:
    values = seasonal(400, 3)
    values[[5, 200, 201, 202, 399]] = np.nan
    gaps = np.isnan(values)
    (labels,) = ours.run([{"targets": values}])
    (scores,) = ours.run([{"targets": values}], output="score")
    (filled,) = ours.run([{"targets": values}], output="imputed")
    assert not labels[0, gaps].any()
    assert np.isnan(scores[0, gaps]).all() and np.isfinite(scores[0, ~gaps]).all()
    assert np.isfinite(filled).all()
    np.testing.assert_array_equal(filled[0, ~gaps], values[~gaps])


def test_a_column_without_any_value_answers_nan_and_no_label(ours: MomentPipeline) -> None:
    values = np.stack([seasonal(64, 4), np.full(64, np.nan)])
    (labels,) = ours.run([{"targets": values}])
    (filled,) = ours.run([{"targets": values}], output="imputed")
    assert not labels[1].any() and np.isnan(filled[1]).all()
    assert np.isfinite(filled[0]).all()


def test_batched_inputs_equal_each_input_alone(ours: MomentPipeline) -> None:
    inputs = [{"targets": seasonal(48, 5)}, {"targets": np.stack([seasonal(700, 6), seasonal(700, 7)])},
              {"targets": seasonal(513, 8)}]
    together = ours.run(copy.deepcopy(inputs), output="score")
    for index, item in enumerate(inputs):
        (alone,) = ours.run([copy.deepcopy(item)], output="score")
        np.testing.assert_allclose(together[index], alone, rtol=1e-6, atol=1e-9, err_msg=f"input {index}")


def test_two_identical_requests_give_identical_answers(ours: MomentPipeline, build, checkpoint) -> None:
    """Eval mode, no dropout, no random masking: the same request is answered bit for bit the same, also by
    another instance loaded from the same files."""
    inputs = [{"targets": np.stack([seasonal(530, 9), seasonal(530, 10)])}]
    for output in ("label", "score", "imputed", "reconstruction"):
        first = ours.run(copy.deepcopy(inputs), output=output)
        second = ours.run(copy.deepcopy(inputs), output=output)
        np.testing.assert_array_equal(first[0], second[0])
    other = build(checkpoint)
    np.testing.assert_array_equal(other.run(copy.deepcopy(inputs), output="score")[0],
                                  ours.run(copy.deepcopy(inputs), output="score")[0])


def test_the_callers_arrays_are_left_alone(ours: MomentPipeline) -> None:
    values = np.stack([seasonal(100, 11), seasonal(100, 12)])
    values[0, 10] = np.nan
    before = values.copy()
    ours.run([{"targets": values}], output="imputed")
    np.testing.assert_array_equal(values, before)


def test_a_forecast_request_is_answered_not_refused(ours: MomentPipeline) -> None:
    """What Thrift forecast sends (covariate slots) gets output_length future rows (test_moment_forecast.py
    checks how); the same targets without them still get detection labels of the first rows."""
    values = seasonal(50, 14)
    (forecast,) = ours.run([{"targets": values, "past_covariates": {}, "future_covariates": {}}], output_length=4)
    (labels,) = ours.run([{"targets": values}], output_length=4)
    assert forecast.shape == labels.shape == (1, 4)
    assert np.isfinite(forecast).all() and set(np.unique(labels)) <= {0.0, 1.0}


@pytest.mark.parametrize(("inputs", "options", "named"), [
    ([{"targets": np.ones(7)}], {}, "send at least 8"),
    ([{"targets": np.r_[np.ones(20), np.inf]}], {}, "infinite value at row 20"),
    ([{"targets": np.ones((2, 3, 16))}], {}, "shape"),
    ([{"targets": np.ones((1, 0))}], {}, "empty"),
    ([{"targets": np.ones(50)}], {"output": "forecast"}, "output='score'"),
    ([{"targets": np.ones(50)}], {"threshold": "-1"}, "positive number"),
    ([{"targets": np.ones(50)}], {"threshold": "high"}, "positive number"),
    ([{"targets": np.ones(50)}], {"treshold": "3"}, "Did you mean 'threshold'"),
    ([{"targets": np.ones(50)}], {"quantiles": "0.5"}, "no quantiles"),
])
def test_bad_input_is_a_1512_saying_what_to_change(ours: MomentPipeline, inputs, options, named) -> None:
    with pytest.raises(InvalidInferenceConfigError, match=named) as caught:
        ours.check(inputs, **options)
    assert isinstance(caught.value, AINodeError) and int(caught.value.code) == 1512


def test_options_arrive_as_strings_or_values_in_any_spelling(ours: MomentPipeline) -> None:
    values = seasonal(128, 13)
    (a,) = ours.run([{"targets": values}], Output="SCORE")
    (b,) = ours.run([{"targets": values}], output="score")
    np.testing.assert_array_equal(a, b)
    (c,) = ours.run([{"targets": values}], threshold=2.0)
    (d,) = ours.run([{"targets": values}], threshold="2")
    np.testing.assert_array_equal(c, d)
