"""Zero-shot forecasts by masked reconstruction: what reaches the network (window, input_mask, mask), parity with
momentfm's ``reconstruction`` on the tiny checkpoint (``fixtures/forecast_golden.npz``, made by
``fixtures/make_forecast_golden.py``), horizons, rollout, several columns, determinism, mixed batches.

A forecast input is what the Thrift ``forecast`` path sends: targets plus (possibly empty) covariate slots.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from ainode_core.errors import InvalidInferenceConfigError
from ainode_plugin_moment.forecasting import masked_rows, rollout_chunks
from ainode_plugin_moment.pipeline import MomentPipeline

SEQ_LEN, PATCH = 512, 8
TOLERANCE = dict(rtol=1e-5, atol=1e-5)  # as the reconstruction parity; bit for bit on the machine that made them


def ahead(targets: np.ndarray, **covariates: dict) -> dict:
    """A forecast input as the Thrift forecast path builds it."""
    return {"targets": targets, "past_covariates": covariates.get("past", {}),
            "future_covariates": covariates.get("future", {})}


def seasonal(length: int, seed: int, channels: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    steps = np.arange(length)
    return np.stack([5 * (c + 1) + 0.01 * steps + np.sin(2 * np.pi * steps / 24 + c)
                     + 0.1 * rng.standard_normal(length) for c in range(channels)])


class Recording:
    """Stands in for the network: records what each forward pass gets, then runs the real one."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model, self.settings = model, model.settings
        self.calls: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []

    def __call__(self, x: torch.Tensor, input_mask: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        self.calls.append((x.clone(), input_mask.clone(), mask.clone()))
        return self.model(x, input_mask, mask)


@pytest.fixture
def recorded(ours: MomentPipeline, monkeypatch: pytest.MonkeyPatch) -> Recording:
    recording = Recording(ours.model)
    monkeypatch.setattr(ours, "model", recording)
    return recording


def intended(context: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Written out by hand: the window of one pass forecasting ``steps`` rows after ``context`` (1-D) →
    x [512] (NaN on masked rows), input_mask [512], mask [512] and the first masked row."""
    masked = -(-steps // PATCH) * PATCH
    first = SEQ_LEN - masked
    context = context[-first:]
    start = first - len(context)
    x = np.full(SEQ_LEN, np.nan)
    x[:start] = 0.0
    x[start:first] = context
    input_mask = np.zeros(SEQ_LEN)
    input_mask[start:] = 1.0  # masked rows are attended to, as in pre-training
    mask = np.zeros(SEQ_LEN)
    for patch in range(0, first, PATCH):  # only whole observed patches of the context are shown
        if patch >= start and not np.isnan(x[patch:patch + PATCH]).any():
            mask[patch:patch + PATCH] = 1.0
    return x, input_mask, mask, first


def direct(model: torch.nn.Module, x: np.ndarray, input_mask: np.ndarray, mask: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        out = model(*(torch.tensor(a, dtype=torch.float32) for a in (x[None, None], input_mask[None], mask[None])))
    return out[0, 0].double().numpy()


def test_rollout_plan() -> None:
    assert [masked_rows(s, PATCH) for s in (1, 8, 13, 96, 200, 256)] == [8, 8, 16, 96, 200, 256]
    assert rollout_chunks(16, SEQ_LEN, PATCH) == [16]
    assert rollout_chunks(256, SEQ_LEN, PATCH) == [256]
    assert rollout_chunks(500, SEQ_LEN, PATCH) == [256, 244]
    assert rollout_chunks(600, SEQ_LEN, PATCH) == [256, 256, 88]


def test_one_pass_hands_the_network_exactly_the_intended_masks(ours: MomentPipeline, recorded: Recording) -> None:
    """100 rows of context (not whole patches), 13 steps ahead: H' = 16 masked rows at the window's end."""
    values = seasonal(100, 0)[0]
    (forecast,) = ours.run([ahead(values)], output_length=13)
    x, input_mask, mask, first = intended(values, 13)
    assert first == 496 and mask[392:400].sum() == 0 and mask[400:496].all() and not mask[496:].any()
    ((got_x, got_input_mask, got_mask),) = recorded.calls
    np.testing.assert_array_equal(got_x[0, 0].numpy(), x.astype(np.float32))
    np.testing.assert_array_equal(got_input_mask[0].numpy(), input_mask)
    np.testing.assert_array_equal(got_mask[0].numpy(), mask)
    np.testing.assert_array_equal(forecast[0], direct(recorded.model, x, input_mask, mask)[first:first + 13])


def test_rollout_reads_its_own_forecast_as_context(ours: MomentPipeline, recorded: Recording) -> None:
    """500 steps: 256 rows masked behind 256 rows of context, then 248 (244 rounded up) behind the last 264 rows
    of input + first forecast; each pass computed directly through the network's masked reconstruction."""
    values = seasonal(700, 1)[0]
    (forecast,) = ours.run([ahead(values)], output_length=500)
    assert forecast.shape == (1, 500) and len(recorded.calls) == 2
    history = values
    for (got_x, got_input_mask, got_mask), done, steps in zip(recorded.calls, (0, 256), (256, 244)):
        x, input_mask, mask, first = intended(history, steps)
        assert first == SEQ_LEN - masked_rows(steps, PATCH)
        np.testing.assert_array_equal(got_x[0, 0].numpy(), x.astype(np.float32))
        np.testing.assert_array_equal(got_input_mask[0].numpy(), input_mask)
        np.testing.assert_array_equal(got_mask[0].numpy(), mask)
        expected = direct(recorded.model, x, input_mask, mask)[first:first + steps]
        np.testing.assert_array_equal(forecast[0, done:done + steps], expected)
        history = np.concatenate([history, expected])


def test_missing_context_rows_hide_their_patch_and_the_forecast_stays_finite(ours: MomentPipeline,
                                                                             recorded: Recording) -> None:
    values = seasonal(300, 2)[0]
    values[[10, 290, 299]] = np.nan  # the last patch before the horizon is hidden too
    (forecast,) = ours.run([ahead(values)], output_length=24)
    x, input_mask, mask, first = intended(values, 24)
    ((_, got_input_mask, got_mask),) = recorded.calls
    np.testing.assert_array_equal(got_input_mask[0].numpy(), input_mask)
    np.testing.assert_array_equal(got_mask[0].numpy(), mask)
    assert not mask[first - 16:].any()  # rows 290 and 299 sit in the last two context patches
    assert np.isfinite(forecast).all()


GOLDEN_CASES = ["multi600_h500", "multi700_h96", "nan300_h200", "short100_h13", "uni512_h16"]


def test_the_forecast_goldens_cover_every_case(forecast_golden) -> None:
    assert sorted(forecast_golden) == GOLDEN_CASES


@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_forecast_equals_momentfm_reconstruction_with_a_trailing_mask(ours: MomentPipeline, forecast_golden,
                                                                      case: str) -> None:
    x, expected = forecast_golden[case]["x"], forecast_golden[case]["forecast"]
    (got,) = ours.run([ahead(x)], output_length=expected.shape[1])
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, **TOLERANCE)


@pytest.mark.parametrize("horizon", [16, 96, 200, 500])
def test_every_horizon_gives_output_length_rows_per_column_deterministically(ours: MomentPipeline,
                                                                             horizon: int) -> None:
    values = seasonal(400, 3, channels=3)
    (first,) = ours.run([ahead(values)], output_length=horizon)
    (second,) = ours.run([ahead(values)], output_length=horizon)
    assert first.shape == (3, horizon) and np.isfinite(first).all()
    np.testing.assert_array_equal(first, second)
    for column in range(3):  # each column on its own, as MOMENT is univariate per channel
        (alone,) = ours.run([ahead(values[column])], output_length=horizon)
        np.testing.assert_allclose(first[column], alone[0], rtol=1e-6, atol=1e-9)


def test_a_forecast_may_be_longer_than_its_input(ours: MomentPipeline) -> None:
    (got,) = ours.run([ahead(seasonal(20, 4))], output_length=96)
    assert got.shape == (1, 96) and np.isfinite(got).all()


def test_detection_and_forecast_inputs_share_a_batch(ours: MomentPipeline) -> None:
    """They batch when their options are equal; each input gets its own kind of answer."""
    inputs = [{"targets": seasonal(300, 5)}, ahead(seasonal(300, 6, channels=2)), {"targets": seasonal(200, 7)}]
    together = ours.run(copy.deepcopy(inputs), output_length=64)
    for index, item in enumerate(inputs):
        (alone,) = ours.run([copy.deepcopy(item)], output_length=64)
        np.testing.assert_allclose(together[index], alone, rtol=1e-6, atol=1e-9, err_msg=f"input {index}")
    assert set(np.unique(together[0])) <= {0.0, 1.0}  # labels, the detection default


def test_covariates_are_ignored(ours: MomentPipeline) -> None:
    values = seasonal(128, 8)
    (plain,) = ours.run([ahead(values)], output_length=8)
    (with_covariates,) = ours.run([ahead(values, past={"x": np.ones(128)}, future={"x": np.ones(8)})],
                                  output_length=8)
    np.testing.assert_array_equal(plain, with_covariates)


@pytest.mark.parametrize(("options", "named"), [
    ({"output_length": 8, "output": "score"}, "Leave output out of FORECAST"),
    ({"output_length": 8, "Threshold": "3"}, "Leave Threshold out of FORECAST"),
    ({}, "needs output_length"),
])
def test_a_forecast_with_a_detection_option_or_without_a_horizon_is_refused(ours: MomentPipeline, options,
                                                                           named: str) -> None:
    with pytest.raises(InvalidInferenceConfigError, match=named):
        ours.check([ahead(np.ones(50))], **options)
