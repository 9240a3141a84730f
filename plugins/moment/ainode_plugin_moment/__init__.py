"""ainode-plugin-moment: AutonLab's MOMENT (model type ``moment``, built-in model ``moment``).

MOMENT-1-large is a T5-large encoder over patches of 8 rows with a pre-trained reconstruction head. Zero-shot
it detects anomalies (reconstruction error) and fills missing values; a FORECAST is answered by reconstructing
masked trailing patches (its forecasting head, untrained without fine-tuning, is never used). Registration
stays import-light: torch and transformers load with the first model instance.
"""
from __future__ import annotations

from ainode_core import BuiltinModel, ModelTypeSpec, hookimpl
from ainode_plugin_moment.pipeline import MomentPipeline

MODEL_TYPE = "moment"  # IoTDB 2.0.10 lists the built-in moment with model_type moment
# MOMENT-1-large in float32: 346,368,520 values (parameters and the positional table), weights only.
ESTIMATED_SIZE_BYTES = 1_385_474_080

MOMENT = BuiltinModel(
    model_id="moment",
    task="anomaly_detection",
    description="AutonLab MOMENT-1-large (346M): zero-shot anomaly detection by reconstruction error and "
    "imputation of missing values (option output=label|score|imputed|reconstruction); FORECAST answers by "
    "reconstructing masked trailing patches (zero-shot)",
    hf_repo_id="AutonLab/MOMENT-1-large",
)


@hookimpl
def ainode_register_model_types() -> list[ModelTypeSpec]:
    return [
        ModelTypeSpec(
            model_type=MODEL_TYPE,
            pipeline_cls=MomentPipeline,
            tasks=("anomaly_detection",),
            builtin_models=(MOMENT,),
            description="MOMENT (momentfm 0.1.4 layout): T5 encoder over patches of 8 with RevIN and the "
            "pre-trained reconstruction head",
            capabilities=frozenset({"batching"}),
            estimated_size_bytes=ESTIMATED_SIZE_BYTES,
        )
    ]


__all__ = ["MomentPipeline", "ainode_register_model_types"]
