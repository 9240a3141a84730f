"""ainode-plugin-sktime: IoTDB's eight classic built-in models, served with sktime.

Forecasting: arima, holtwinters, exponential_smoothing, naive_forecaster, stl_forecaster.
Anomaly detection: gaussian_hmm, gmm_hmm (hidden state label per row), stray (0/1 outlier flag per row).
No weights: each model is fitted on the request's own input window; "fine-tuning" learns settings
(season length, ARIMA order, number of HMM states) from a dataset (see :mod:`ainode_plugin_sktime.finetune`).
"""
from __future__ import annotations

from ainode_core import ModelTypeSpec, hookimpl
from ainode_plugin_sktime.catalog import builtin_models
from ainode_plugin_sktime.finetune import HYPERPARAMETERS, finetune
from ainode_plugin_sktime.pipelines import SktimePipeline

MODEL_TYPE = "sktime"


@hookimpl
def ainode_register_model_types() -> list[ModelTypeSpec]:
    return [
        ModelTypeSpec(
            model_type=MODEL_TYPE,
            pipeline_cls=SktimePipeline,
            tasks=("forecast", "anomaly_detection"),
            builtin_models=builtin_models(),
            description="Classic statistical models (sktime 1.2): fitted on each request's input, no weights",
            capabilities=frozenset({"batching", "finetune"}),
            estimated_size_bytes=1 << 20,  # no weights; an instance holds only its defaults
            finetune=finetune,  # learns settings (season length, ARIMA order, HMM states): see finetune.py
            finetune_hyperparameters=HYPERPARAMETERS,
        )
    ]
