"""The plugin test kit (ainode_core.testing): its checks pass on the real sktime plugin and catch a broken one."""
from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from ainode_core import BuiltinModel, ModelTypeSpec
from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.pipelines.base import ForecastPipeline, ModelInfo
from ainode_core.plugins import PluginManager
from ainode_core.testing import (
    CHECKS,
    check_batch_equals_single,
    check_deterministic,
    check_errors_are_ainode_errors,
    check_forecast_shapes,
    check_inputs_not_mutated,
    check_spec_valid,
    check_unique_in_plugin_manager,
    parametrize_with_checks,
    test_params as kit_params,
)


def _sktime_spec() -> ModelTypeSpec:
    registered = PluginManager(strict=False).model_type("sktime")
    assert registered is not None, "ainode-plugin-sktime is not installed in this venv"
    return registered.record


# --- toy pipelines, each broken in one way ---------------------------------------------------------------


class GoodToy(ForecastPipeline):
    """Repeats each variate's last value (correct; the baseline the broken toys differ from)."""

    def forecast(self, inputs, **kw):
        return [np.repeat(item["targets"][:, -1:], int(kw["output_length"]), axis=1) for item in inputs]


class WrongLengthToy(ForecastPipeline):
    """Returns one step too few: ForecastPipeline.postprocess raises InferenceInternalError."""

    def forecast(self, inputs, **kw):
        return [np.zeros((item["targets"].shape[0], int(kw["output_length"]) - 1 or 2)) for item in inputs]


class DropsChannelsToy(ForecastPipeline):
    """Forecasts only the first variate."""

    def forecast(self, inputs, **kw):
        return [np.zeros((1, int(kw["output_length"]))) for item in inputs]


class BatchLeakToy(GoodToy):
    """Adds the batch size to every forecast: batched results differ from single ones."""

    def forecast(self, inputs, **kw):
        return [out + len(inputs) for out in super().forecast(inputs, **kw)]


class RandomToy(GoodToy):
    """Ignores the seed option."""

    def forecast(self, inputs, **kw):
        return [out + np.random.default_rng().random() for out in super().forecast(inputs, **kw)]


class MutatingToy(GoodToy):
    """Fills nulls in place, in the caller's array."""

    def forecast(self, inputs, **kw):
        for item in inputs:
            np.nan_to_num(item["targets"], copy=False)
        return super().forecast(inputs, **kw)


class BareErrorToy(GoodToy):
    """Skips the base validation, so a 3-D target reaches numpy and raises a bare IndexError/ValueError."""

    def preprocess(self, inputs, **kw):
        return list(inputs)

    def forecast(self, inputs, **kw):
        outputs = []
        for item in inputs:
            channels, _length = np.shape(item["targets"])  # ValueError on a 3-D target
            outputs.append(np.zeros((channels, int(kw["output_length"]))))
        return outputs


class SeededToy(GoodToy):
    """Random, but seeded from the 'seed' option (passes the determinism check) and strict about options."""

    def forecast(self, inputs, **kw):
        unknown = set(kw) - {"output_length", "seed"}
        if unknown:
            raise InvalidInferenceConfigError(f"unknown options {sorted(unknown)}")
        rng = np.random.default_rng(int(kw.get("seed", 0)))
        return [out + rng.random() for out in super().forecast(inputs, **kw)]


def toy_spec(pipeline_cls: type, model_type: str = "toy_testkit", **kwargs: Any) -> ModelTypeSpec:
    kwargs.setdefault("builtin_models", (BuiltinModel(f"{model_type}_small"),))
    return ModelTypeSpec(model_type=model_type, pipeline_cls=pipeline_cls, **kwargs)


# --- the kit over the real sktime plugin and a deliberately broken toy -------------------------------


@parametrize_with_checks([_sktime_spec()])
def test_sktime_passes_every_check(spec, check):
    check(spec)


@parametrize_with_checks([toy_spec(WrongLengthToy, "toy_wrong_length")],
                         expected_failures={"check_forecast_shapes": "returns output_length - 1 steps",
                                            "check_batch_equals_single": "fails on any run",
                                            "check_deterministic": "fails on any run"})
def test_broken_toy_expected_failures(spec, check):
    check(spec)


def test_parametrize_ids_and_xfail_marks():
    decorator = parametrize_with_checks([toy_spec(GoodToy)], expected_failures={"check_deterministic": "why"})
    params = decorator.args[1]
    assert [p.id for p in params] == [f"toy_testkit-{name}" for name in CHECKS]
    marked = {p.id: p.marks for p in params if p.marks}
    assert list(marked) == ["toy_testkit-check_deterministic"]
    (mark,) = marked["toy_testkit-check_deterministic"]
    assert mark.name == "xfail" and mark.kwargs["strict"] is True and mark.kwargs["reason"] == "why"


def test_unknown_expected_failure_is_rejected():
    with pytest.raises(ValueError, match="check_shapes"):
        parametrize_with_checks([toy_spec(GoodToy)], expected_failures={"check_shapes": "typo"})


def test_good_toy_passes_every_check():
    for check in CHECKS.values():
        check(toy_spec(GoodToy))


@pytest.mark.parametrize("pipeline_cls, check, needle", [
    (WrongLengthToy, check_forecast_shapes, "output length"),
    (DropsChannelsToy, check_forecast_shapes, r"expected \[C, H\]"),
    (BatchLeakToy, check_batch_equals_single, "differs when batched"),
    (RandomToy, check_deterministic, "differ"),
    (MutatingToy, check_inputs_not_mutated, "targets were modified"),
    (BareErrorToy, check_errors_are_ainode_errors, "raised ValueError.*AINodeError"),
])
def test_each_check_catches_its_bug(pipeline_cls, check, needle):
    with pytest.raises(AssertionError, match=needle) as info:
        check(toy_spec(pipeline_cls))
    assert "toy_testkit" in str(info.value)  # the message names the model type


def test_seed_option_is_honoured():
    check_deterministic(toy_spec(SeededToy))


def test_spec_valid_rejects_bad_specs():
    class NotAPipeline:
        pass

    with pytest.raises(AssertionError, match="must subclass"):
        check_spec_valid(toy_spec(NotAPipeline))
    with pytest.raises(AssertionError, match="Invalid model id"):
        check_spec_valid(ModelTypeSpec("toy_testkit", GoodToy, builtin_models=(BuiltinModel("1bad"),)))
    with pytest.raises(AssertionError, match="does not subclass"):
        check_spec_valid(ModelTypeSpec("toy_testkit", GoodToy, tasks=("anomaly_detection",)))
    with pytest.raises(AssertionError, match="model_type is empty"):
        check_spec_valid(ModelTypeSpec(" ", GoodToy))


def test_unique_check_reports_a_clash_with_an_installed_plugin():
    clashing = ModelTypeSpec("sktime", GoodToy)
    with pytest.raises(AssertionError, match="sktime"):
        check_unique_in_plugin_manager(clashing)
    with pytest.raises(AssertionError, match="arima"):
        check_unique_in_plugin_manager(toy_spec(GoodToy, builtin_models=(BuiltinModel("arima"),)))
    check_unique_in_plugin_manager(toy_spec(GoodToy))


def test_params_come_from_the_pipeline_class_or_the_argument():
    class WithParams(GoodToy):
        @staticmethod
        def ainode_test_params():
            return [{"model_info": ModelInfo("toy_a", "toy_testkit"), "options": {"k": 1}},
                    {"model_info": ModelInfo("toy_b", "toy_testkit")}]

    params = kit_params(toy_spec(WithParams))
    assert [p["model_info"].model_id for p in params] == ["toy_a", "toy_b"]
    assert [p["options"] for p in params] == [{"k": 1}, {}]
    given = [{"model_info": ModelInfo("toy_c", "toy_testkit")}]
    assert kit_params(toy_spec(WithParams), given)[0]["model_info"].model_id == "toy_c"
    default = kit_params(_sktime_spec())[0]["model_info"]
    assert (default.model_type, default.task) == ("sktime", "forecast")
    assert default.model_id in {b.model_id for b in _sktime_spec().builtin_models}
    assert default.config  # the built-in's config.json values


def test_importing_the_kit_does_not_import_torch():
    code = ("import sys, ainode_core.testing, ainode_core.testing.fixtures; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr


def test_series_fixture_comes_from_the_pytest_plugin(ainode_series):
    series = ainode_series(3, 40, seed=1)
    assert series.shape == (3, 40) and series.dtype == np.float64 and (series > 0).all()
    assert not np.array_equal(series, ainode_series(3, 40, seed=2))
