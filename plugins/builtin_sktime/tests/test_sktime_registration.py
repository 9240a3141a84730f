"""The plugin as the node sees it: entry point, model type, the eight built-ins and their defaults."""
from __future__ import annotations

import os
import subprocess
import sys

from ainode_core.pipelines.base import AnomalyDetectionPipeline, ForecastPipeline, ModelInfo

FORECASTERS = {"arima", "holtwinters", "exponential_smoothing", "naive_forecaster", "stl_forecaster"}
DETECTORS = {"gaussian_hmm", "gmm_hmm", "stray"}


def test_entry_point_registers_the_sktime_model_type(plugin_manager):
    info = plugin_manager.plugins["sktime"]
    assert info.distribution == "ainode-plugin-sktime"
    assert info.errors == []
    assert info.registered["model_types"] == ["sktime"]
    spec = plugin_manager.model_type("sktime").record
    assert set(spec.tasks) == {"forecast", "anomaly_detection"}


def test_eight_builtins_without_weights(plugin_manager):
    builtins = {model_id: reg for model_id, reg in plugin_manager.registry("builtin_models").items()
                if reg.plugin == "sktime"}
    assert set(builtins) == FORECASTERS | DETECTORS
    for model_id, registered in builtins.items():
        builtin, spec = registered.record
        assert spec.model_type == "sktime"
        assert builtin.hf_repo_id is None and not builtin.needs_weights
        assert builtin.task == ("forecast" if model_id in FORECASTERS else "anomaly_detection")


def test_descriptions_say_what_the_output_means(sktime_spec):
    for builtin in sktime_spec.builtin_models:
        text = builtin.description.lower()
        if builtin.model_id in {"gaussian_hmm", "gmm_hmm"}:
            assert "state label" in text
        elif builtin.model_id == "stray":
            assert "0/1 flag" in text
        else:
            assert "next output_length values" in text


def test_defaults_are_iotdbs(sktime_spec):
    config = {b.model_id: dict(b.config) for b in sktime_spec.builtin_models}
    assert config["arima"]["order"] == [1, 0, 0] and config["arima"]["seasonal_order"] == [0, 0, 0]
    assert config["arima"]["season_length"] == 1 and config["arima"]["include_mean"] is True
    assert config["arima"]["method"] == "CSS-ML"
    assert config["exponential_smoothing"]["damped_trend"] is False
    assert config["exponential_smoothing"]["initialization_method"] == "estimated"
    assert (config["holtwinters"]["trend"], config["holtwinters"]["seasonal"]) == ("add", "add")
    assert config["naive_forecaster"]["strategy"] == "last" and config["naive_forecaster"]["sp"] == 1
    stl = config["stl_forecaster"]
    assert (stl["sp"], stl["seasonal"]) == (2, 7)
    assert {stl[k] for k in ("seasonal_deg", "trend_deg", "low_pass_deg")} == {1}
    assert {stl[k] for k in ("seasonal_jump", "trend_jump", "low_pass_jump")} == {1}
    for hmm in ("gaussian_hmm", "gmm_hmm"):
        assert {k: config[hmm][k] for k in ("n_components", "covariance_type", "n_iter", "tol", "algorithm")} == {
            "n_components": 1, "covariance_type": "diag", "n_iter": 10, "tol": 0.01, "algorithm": "viterbi"}
    assert config["gmm_hmm"]["n_mix"] == 1
    assert config["stray"] == {**config["stray"], "alpha": 0.01, "k": 10, "knn_algorithm": "brute", "p": 0.5,
                               "size_threshold": 50, "outlier_tail": "max"}


def test_one_pipeline_class_serves_both_tasks(sktime_spec):
    for builtin in sktime_spec.builtin_models:
        pipeline = sktime_spec.pipeline_cls(
            ModelInfo(builtin.model_id, "sktime", task=builtin.task, config=builtin.config), device="cpu")
        expected = ForecastPipeline if builtin.task == "forecast" else AnomalyDetectionPipeline
        assert isinstance(pipeline, expected)


def test_loading_the_plugin_does_not_import_sktime():
    """The node imports every plugin at start; sktime costs seconds and is only needed on first use."""
    code = ("import sys; from ainode_core.plugins import PluginManager; PluginManager(); "
            "assert 'ainode_plugin_sktime' in sys.modules; print('sktime' in sys.modules)")
    env = {**os.environ, "AINODE_LOAD_PLUGINS": "sktime"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
