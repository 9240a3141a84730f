"""ainode-plugin-toto: Datadog's Toto (model type ``toto``, built-in model ``toto``), as in IoTDB 2.0.10.

The core fetches ``config.json`` + ``model.safetensors`` of ``Datadog/Toto-Open-Base-1.0`` into
``<ain_models_dir>/builtin/toto/`` (or an operator places them there); the model code is ours
(:mod:`ainode_plugin_toto.modeling`) and loads that checkpoint unchanged. Registration stays import-light:
torch, transformers and scipy load with the first model instance.
"""
from __future__ import annotations

from ainode_core import BuiltinModel, ModelTypeSpec, hookimpl
from ainode_plugin_toto.pipeline import TotoForecastPipeline

MODEL_TYPE = "toto"
# Toto-Open-Base-1.0: 151,306,080 float32 parameters (embed 768, 12 layers, MLP 3072, patch 64, 24
# components), weights only.
ESTIMATED_SIZE_BYTES = 151_306_080 * 4

TOTO = BuiltinModel(
    model_id="toto",
    task="forecast",
    description="Datadog Toto-Open-Base-1.0 (151M): zero-shot multivariate forecasts from a Student-T mixture; "
    "mean by default, sampled paths and quantiles on request",
    hf_repo_id="Datadog/Toto-Open-Base-1.0",
)


@hookimpl
def ainode_register_model_types() -> list[ModelTypeSpec]:
    return [
        ModelTypeSpec(
            model_type=MODEL_TYPE,
            pipeline_cls=TotoForecastPipeline,
            tasks=("forecast",),
            builtin_models=(TOTO,),
            description="Toto: decoder-only patch transformer (time- and variate-wise attention) with a "
            "Student-T mixture head, decoded patch by patch with a KV cache",
            capabilities=frozenset({"batching", "quantiles", "sampling"}),
            estimated_size_bytes=ESTIMATED_SIZE_BYTES,
        )
    ]


__all__ = ["TotoForecastPipeline", "ainode_register_model_types"]
