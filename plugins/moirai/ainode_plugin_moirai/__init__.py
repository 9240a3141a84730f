"""ainode-plugin-moirai: Salesforce's Moirai-2 (model type ``moirai``, built-in model ``moirai2``).

Registration stays import-light: torch and transformers load with the first model instance.
"""
from __future__ import annotations

from ainode_core import BuiltinModel, ModelTypeSpec, hookimpl
from ainode_plugin_moirai.pipeline import Moirai2ForecastPipeline

MODEL_TYPE = "moirai"  # what IoTDB 2.0.10 lists for moirai2
# moirai-2.0-R-small: 11.4M float32 parameters, weights only.
ESTIMATED_SIZE_BYTES = 46_000_000

MOIRAI2 = BuiltinModel(
    model_id="moirai2",
    task="forecast",
    description="Salesforce Moirai-2 small (11M): zero-shot forecasts of one or several columns with 9 quantiles",
    hf_repo_id="Salesforce/moirai-2.0-R-small",
    noncommercial_licence="CC BY-NC 4.0",  # the weights' licence on the hub; our code is Apache-2.0
)


@hookimpl
def ainode_register_model_types() -> list[ModelTypeSpec]:
    return [
        ModelTypeSpec(
            model_type=MODEL_TYPE,
            pipeline_cls=Moirai2ForecastPipeline,
            tasks=("forecast",),
            builtin_models=(MOIRAI2,),
            description="Moirai-2 decoder (uni2ts 2.0.0's Moirai2Module): patches of 16, attention across "
            "variates, 9 quantile levels, 64 steps per pass and a quantile rollout beyond",
            capabilities=frozenset({"batching", "quantiles"}),
            estimated_size_bytes=ESTIMATED_SIZE_BYTES,
        )
    ]


__all__ = ["Moirai2ForecastPipeline", "ainode_register_model_types"]
