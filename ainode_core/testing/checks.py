"""The plugin test kit: named checks a plugin author runs on their ``ModelTypeSpec`` in their own tests.

Each check is a plain function ``check_<name>(spec, model_info_factory=None)`` that raises
``AssertionError`` with a message saying what is wrong and what to change. :func:`parametrize_with_checks`
turns every (spec, check) pair into one pytest test (scikit-learn's idea), with an explicit list of expected
failures.

How a check builds a pipeline (sktime's ``get_test_params`` idea): the test parameters are a list of dicts,
each with ``model_info`` (:class:`ModelInfo`) and optional ``options`` (request options). They come from, in
order: the ``model_info_factory`` argument (a list of dicts or a callable returning one), a
``ainode_test_params()`` function on the spec's pipeline class, or the default: the spec's first built-in
model (its first forecasting one when the spec forecasts) with its config.

Importing this module must not import torch or pytest (plugin authors import it at collection time).
"""
from __future__ import annotations

import copy
import functools
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from ainode_core.errors import AINodeError, InvalidInferenceConfigError
from ainode_core.models.record import validate_model_id
from ainode_core.pipelines.base import BASE_PIPELINES, ForecastPipeline, ModelInfo, Pipeline
from ainode_core.records import ModelTypeSpec, normalise_name

TestParams = Mapping[str, Any]
ParamsSource = Sequence[TestParams] | Callable[[], Sequence[TestParams]] | None

HORIZONS = (1, 7, 24)
SERIES_LENGTHS = (48, 64)


# --- test parameters -----------------------------------------------------------------------------------


def default_model_info(spec: ModelTypeSpec) -> ModelInfo:
    """The spec's first built-in model (its first forecasting one if the spec forecasts), else a model named
    after the model type with an empty config."""
    builtins = list(spec.builtin_models)
    if "forecast" in spec.tasks:
        builtins = [b for b in builtins if b.task == "forecast"] or builtins
    if builtins:
        first = builtins[0]
        return ModelInfo(model_id=first.model_id, model_type=spec.model_type, task=first.task,
                         config=dict(first.config))
    return ModelInfo(model_id=spec.model_type, model_type=spec.model_type, task=spec.tasks[0], config={})


def test_params(spec: ModelTypeSpec, model_info_factory: ParamsSource = None) -> list[dict[str, Any]]:
    """The parameter sets the checks build pipelines from (see the module docstring)."""
    source: Any = model_info_factory
    if source is None:
        source = getattr(spec.pipeline_cls, "ainode_test_params", None)
    raw = source() if callable(source) else source
    if raw is None:
        raw = [{"model_info": default_model_info(spec)}]
    params = [dict(item) for item in raw]
    assert params, f"{spec.model_type}: the test parameters are an empty list; give at least one dict"
    for index, item in enumerate(params):
        assert isinstance(item.get("model_info"), ModelInfo), (
            f"{spec.model_type}: test parameters #{index} need a 'model_info' ModelInfo, got {item!r}")
        item.setdefault("options", {})
    return params


test_params.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite its name


def _build(spec: ModelTypeSpec, params: TestParams) -> Pipeline:
    info = params["model_info"]
    try:
        return spec.pipeline_cls(info, device="cpu")
    except Exception as exc:
        raise AssertionError(
            f"{spec.model_type}: {spec.pipeline_cls.__name__}({info.model_id!r}, device='cpu') failed: "
            f"{type(exc).__name__}: {exc}") from exc


def _forecast_params(spec: ModelTypeSpec, model_info_factory: ParamsSource) -> list[dict[str, Any]]:
    """Forecast checks run on the forecasting parameter sets only (vacuous for other tasks)."""
    return [p for p in test_params(spec, model_info_factory) if p["model_info"].task == "forecast"]


def make_series(channels: int, length: int, seed: int = 0) -> np.ndarray:
    """A positive, seasonal, slightly noisy float64 series ``[C, L]`` most models can fit."""
    rng = np.random.default_rng(seed)
    steps = np.arange(length, dtype=np.float64)
    rows = [10.0 + c + 0.05 * steps + np.sin(2 * np.pi * steps / 12 + c) + 0.1 * rng.standard_normal(length)
            for c in range(channels)]
    return np.stack(rows)


def _run(spec: ModelTypeSpec, pipeline: Pipeline, inputs: list[dict[str, Any]], horizon: int,
         options: Mapping[str, Any], what: str) -> list[np.ndarray]:
    try:
        return pipeline.run(inputs, output_length=horizon, **options)
    except AINodeError as exc:
        raise AssertionError(f"{spec.model_type} ({what}): run() failed on valid inputs with "
                             f"{type(exc).__name__} {int(exc.code)}: {exc.message}") from exc


# --- the checks ----------------------------------------------------------------------------------------


def check_spec_valid(spec: ModelTypeSpec, model_info_factory: ParamsSource = None) -> None:
    """model_type is set, the pipeline class is an ainode pipeline for each task, built-in ids are valid."""
    assert isinstance(spec, ModelTypeSpec), f"expected a ModelTypeSpec, got {type(spec).__name__}"
    assert isinstance(spec.model_type, str) and spec.model_type.strip(), "ModelTypeSpec.model_type is empty"
    assert isinstance(spec.pipeline_cls, type) and issubclass(spec.pipeline_cls, Pipeline), (
        f"{spec.model_type}: pipeline_cls {spec.pipeline_cls!r} must subclass an ainode base pipeline "
        f"({', '.join(cls.__name__ for cls in BASE_PIPELINES.values())})")
    if len(spec.tasks) == 1 and spec.tasks[0] in BASE_PIPELINES:
        # One task: the class itself must be that task's pipeline (a multi-task class may be a factory).
        base = BASE_PIPELINES[spec.tasks[0]]
        assert issubclass(spec.pipeline_cls, base), (
            f"{spec.model_type}: pipeline_cls {spec.pipeline_cls.__name__} serves {spec.tasks[0]} but does not "
            f"subclass {base.__name__}")
    for builtin in spec.builtin_models:
        try:
            validate_model_id(builtin.model_id)
        except AINodeError as exc:
            raise AssertionError(f"{spec.model_type}: built-in model id {builtin.model_id!r}: {exc}") from exc
        assert builtin.task in spec.tasks, (
            f"{spec.model_type}: built-in model {builtin.model_id} has task {builtin.task!r}, which the spec "
            f"does not list in tasks={spec.tasks}")
    for params in test_params(spec, model_info_factory):
        info = params["model_info"]
        assert info.task in spec.tasks, f"{spec.model_type}: test model {info.model_id} has task {info.task!r}"
        pipeline = _build(spec, params)
        base = BASE_PIPELINES.get(info.task)
        assert base is None or isinstance(pipeline, base), (
            f"{spec.model_type}: the pipeline built for {info.model_id} ({type(pipeline).__name__}) is not a "
            f"{base.__name__ if base else ''}")


def check_unique_in_plugin_manager(spec: ModelTypeSpec, model_info_factory: ParamsSource = None) -> None:
    """In a fresh ``PluginManager()`` (every installed plugin), nothing else claims the spec's names."""
    from ainode_core.plugins import PluginManager  # lazy: loads every installed plugin

    manager = PluginManager(strict=False)
    registered = manager.model_type(spec.model_type)
    if registered is None or registered.record.pipeline_cls is not spec.pipeline_cls:
        # Not installed (or someone else holds the name): register it as a throw-away plugin to find clashes.
        class _Candidate:
            @staticmethod
            def ainode_register_model_types() -> list[ModelTypeSpec]:
                return [spec]

        from ainode_core.hookspecs import hookimpl

        _Candidate.ainode_register_model_types = staticmethod(hookimpl(_Candidate.ainode_register_model_types))
        manager.add_plugin(_Candidate, name=f"ainode-testkit-{spec.model_type}")
    names = {normalise_name(spec.model_type)} | {normalise_name(b.model_id) for b in spec.builtin_models}
    clashes = [c.message() for c in manager.conflicts if normalise_name(c.name) in names]
    assert not clashes, f"{spec.model_type}: name clash with installed plugins: " + " | ".join(clashes)


def check_forecast_shapes(spec: ModelTypeSpec, model_info_factory: ParamsSource = None) -> None:
    """One ``[C, H]`` output per input, for C=1 and C=3 in one batch and several horizons H."""
    for params in _forecast_params(spec, model_info_factory):
        pipeline = _build(spec, params)
        for horizon in HORIZONS:
            inputs = [{"targets": make_series(1, SERIES_LENGTHS[0], seed=1)},
                      {"targets": make_series(3, SERIES_LENGTHS[1], seed=2)}]
            outputs = _run(spec, pipeline, inputs, horizon, params["options"], f"output_length={horizon}")
            assert len(outputs) == len(inputs), (
                f"{spec.model_type}: {len(inputs)} inputs gave {len(outputs)} outputs; return one per input")
            for index, (item, output) in enumerate(zip(inputs, outputs)):
                expected = (item["targets"].shape[0], horizon)
                shape = tuple(np.shape(output))
                assert shape == expected, (
                    f"{spec.model_type}: input {index} with targets {list(item['targets'].shape)} and "
                    f"output_length={horizon} gave shape {list(shape)}; expected [C, H] = {list(expected)}")
                assert np.isfinite(output).all(), (
                    f"{spec.model_type}: input {index} (no missing values) gave a forecast with NaN/inf")


def check_batch_equals_single(spec: ModelTypeSpec, model_info_factory: ParamsSource = None) -> None:
    """Inputs run together give the same forecasts as each input run on its own (batching is invisible)."""
    for params in _forecast_params(spec, model_info_factory):
        pipeline = _build(spec, params)
        inputs = [{"targets": make_series(1, 48, seed=3)}, {"targets": make_series(2, 64, seed=4)},
                  {"targets": make_series(1, 56, seed=5)}]
        together = _run(spec, pipeline, inputs, 6, params["options"], "batch")
        for index, item in enumerate(inputs):
            alone = _run(spec, pipeline, [item], 6, params["options"], f"input {index} alone")
            np.testing.assert_allclose(
                together[index], alone[0], rtol=1e-5, atol=1e-6, equal_nan=True,
                err_msg=f"{spec.model_type}: input {index} forecast differs when batched with other inputs")


def check_deterministic(spec: ModelTypeSpec, model_info_factory: ParamsSource = None) -> None:
    """Two runs with the same ``seed`` option give equal forecasts. A model that rejects ``seed`` (an
    :class:`InvalidInferenceConfigError` naming it) has no randomness to seed, so it must be equal without."""
    for params in _forecast_params(spec, model_info_factory):
        pipeline = _build(spec, params)
        inputs = [{"targets": make_series(2, 48, seed=6)}]
        options = {**params["options"], "seed": 7}
        try:
            pipeline.run(copy.deepcopy(inputs), output_length=5, **options)
        except InvalidInferenceConfigError as exc:
            if "seed" not in exc.message:
                raise AssertionError(f"{spec.model_type}: run(seed=7) failed: {exc.message}") from exc
            options = dict(params["options"])
        except AINodeError as exc:
            raise AssertionError(f"{spec.model_type}: run(seed=7) failed with {type(exc).__name__}: "
                                 f"{exc.message}") from exc
        first = _run(spec, pipeline, copy.deepcopy(inputs), 5, options, "first run")
        second = _run(spec, pipeline, copy.deepcopy(inputs), 5, options, "second run")
        for index, (a, b) in enumerate(zip(first, second)):
            np.testing.assert_array_equal(
                a, b, err_msg=f"{spec.model_type}: two runs with options {options} differ (input {index}); "
                              "seed every random generator from the 'seed' option")


def check_inputs_not_mutated(spec: ModelTypeSpec, model_info_factory: ParamsSource = None) -> None:
    """The caller's arrays and covariate dicts are unchanged after a run (float64 targets are passed
    through validation without a copy, so an in-place edit would reach the caller)."""
    for params in _forecast_params(spec, model_info_factory):
        pipeline = _build(spec, params)
        length = 48
        inputs = [{"targets": make_series(2, length, seed=8),
                   "past_covariates": {"x": np.linspace(0.0, 1.0, length)},
                   "future_covariates": {"x": np.linspace(1.0, 1.1, 4)}},
                  {"targets": make_series(1, length, seed=9)}]
        inputs[0]["targets"][0, 10] = np.nan  # a null row: pipelines that fill gaps must fill a copy
        before = copy.deepcopy(inputs)
        try:
            pipeline.run(inputs, output_length=4, **params["options"])
        except AINodeError:
            pass  # rejecting covariates or nulls is allowed; mutating the caller's data is not
        for index, (now, was) in enumerate(zip(inputs, before)):
            assert now.keys() == was.keys(), f"{spec.model_type}: input {index} dict keys were changed"
            np.testing.assert_array_equal(now["targets"], was["targets"],
                                          err_msg=f"{spec.model_type}: input {index} targets were modified")
            for kind in ("past_covariates", "future_covariates"):
                assert (now.get(kind) or {}).keys() == (was.get(kind) or {}).keys(), (
                    f"{spec.model_type}: input {index} {kind} names were changed")
                for name, values in (was.get(kind) or {}).items():
                    np.testing.assert_array_equal(now[kind][name], values,
                                                  err_msg=f"{spec.model_type}: {kind} '{name}' was modified")


def check_errors_are_ainode_errors(spec: ModelTypeSpec, model_info_factory: ParamsSource = None) -> None:
    """Bad input raises an ``AINodeError`` subclass (a status code and a message), never a bare exception."""
    bad_inputs = {
        "a 3-D target": [{"targets": np.ones((2, 3, 16))}],
        "an empty series": [{"targets": np.ones((1, 0))}],
    }
    for params in _forecast_params(spec, model_info_factory):
        pipeline = _build(spec, params)
        for what, inputs in bad_inputs.items():
            try:
                pipeline.run(inputs, output_length=4, **params["options"])
            except AINodeError:
                continue
            except Exception as exc:
                raise AssertionError(
                    f"{spec.model_type}: {what} raised {type(exc).__name__}: {exc}; raise an AINodeError "
                    "subclass (InvalidInferenceConfigError for bad input) instead") from exc
            raise AssertionError(f"{spec.model_type}: {what} was accepted; it must raise "
                                 "InvalidInferenceConfigError")


# The one list of checks (order = the order tests are generated in).
CHECKS: dict[str, Callable[..., None]] = {
    check.__name__: check
    for check in (check_spec_valid, check_unique_in_plugin_manager, check_forecast_shapes,
                  check_batch_equals_single, check_deterministic, check_inputs_not_mutated,
                  check_errors_are_ainode_errors)
}


# --- pytest integration --------------------------------------------------------------------------------


def parametrize_with_checks(specs: Iterable[ModelTypeSpec], expected_failures: Mapping[str, str] | None = None,
                            params: Mapping[str, ParamsSource] | None = None) -> Any:
    """A ``pytest.mark.parametrize("spec, check", ...)`` decorator: one test per (spec, check), id
    ``<model_type>-<check_name>``. Call the check as ``check(spec)``.

    ``expected_failures`` maps ``check_name`` (every spec) or ``<model_type>-<check_name>`` (one spec) to the
    reason; those tests are ``xfail(strict=True)``, so a fixed check reminds you to drop the entry.
    ``params`` maps a model type to its test parameters (see the module docstring)."""
    import pytest  # lazy: only test suites call this

    specs = list(specs)
    expected = dict(expected_failures or {})
    known = set(CHECKS) | {f"{s.model_type}-{name}" for s in specs for name in CHECKS}
    unknown = sorted(set(expected) - known)
    if unknown:
        raise ValueError(f"expected_failures names unknown checks {unknown}; known checks: {', '.join(CHECKS)}")
    cases = []
    for spec in specs:
        factory = (params or {}).get(spec.model_type)
        for name, check in CHECKS.items():
            test_id = f"{spec.model_type}-{name}"
            reason = expected.get(test_id, expected.get(name))
            marks = [pytest.mark.xfail(strict=True, reason=reason, raises=AssertionError)] if reason else []
            bound = functools.partial(check, model_info_factory=factory)
            functools.update_wrapper(bound, check)
            cases.append(pytest.param(spec, bound, id=test_id, marks=marks))
    return pytest.mark.parametrize("spec, check", cases)


__all__ = ["CHECKS", "HORIZONS", "default_model_info", "make_series", "parametrize_with_checks", "test_params",
           *CHECKS]


# --- plugin-level checks -------------------------------------------------------------------------------


def heavy_imports_at_registration(plugin: str, model_type: str,
                                  heavy: Sequence[str] = ("torch", "transformers", "scipy")) -> list[str]:
    """The ``heavy`` modules that loading only ``plugin`` and looking up ``model_type`` imports, in a fresh
    interpreter: ``[]`` when registration stays light, as it must (``ainode models`` and the node's start list
    every plugin; a model's libraries should load with its first instance)."""
    import json
    import os
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "from ainode_core.plugins import PluginManager\n"
        f"assert PluginManager(strict=True).model_type({model_type!r}) is not None\n"
        f"print(json.dumps(sorted(name for name in {list(heavy)!r} if name in sys.modules)))\n"
    )
    env = {**os.environ, "AINODE_LOAD_PLUGINS": plugin}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])
