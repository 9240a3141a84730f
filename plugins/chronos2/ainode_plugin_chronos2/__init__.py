"""ainode-plugin-chronos2: Amazon's Chronos-2 (model type ``t5``, built-in model ``chronos2``).

Registration stays import-light: torch and chronos load with the first model instance.
"""
from __future__ import annotations

from ainode_core import BuiltinModel, ModelTypeSpec, hookimpl
from ainode_plugin_chronos2.finetune import HYPERPARAMETERS, finetune
from ainode_plugin_chronos2.pipeline import Chronos2ForecastPipeline

MODEL_TYPE = "t5"  # what amazon/chronos-2's config.json says, and what IoTDB lists for chronos2
# 119.5M float32 parameters (the real-size config in bench/bench_chronos2.py), weights only.
ESTIMATED_SIZE_BYTES = 478_000_000

CHRONOS2 = BuiltinModel(
    model_id="chronos2",
    task="forecast",
    description="Amazon Chronos-2 (120M): zero-shot univariate, multivariate and covariate-informed "
    "forecasts with 21 quantiles",
    hf_repo_id="amazon/chronos-2",
)


@hookimpl
def ainode_register_model_types() -> list[ModelTypeSpec]:
    return [
        ModelTypeSpec(
            model_type=MODEL_TYPE,
            pipeline_cls=Chronos2ForecastPipeline,
            tasks=("forecast",),
            builtin_models=(CHRONOS2,),
            description="Chronos-2 encoder (chronos-forecasting 2.3.2): group attention over targets and "
            "covariates, quantile head",
            capabilities=frozenset({"batching", "covariates", "quantiles", "finetune"}),
            estimated_size_bytes=ESTIMATED_SIZE_BYTES,
            finetune=finetune,
            finetune_hyperparameters=tuple(HYPERPARAMETERS),
        )
    ]


__all__ = ["Chronos2ForecastPipeline", "ainode_register_model_types", "finetune"]
