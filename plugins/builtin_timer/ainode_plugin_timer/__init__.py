"""ainode-plugin-timer: the Timer-XL (``timer``) and Sundial (``sundial``) model types of THUML.

Registers the two model types and their built-in models ``timer_xl`` and ``sundial``. The core fetches
the weights (``config.json`` + ``model.safetensors`` from the hub repos below); the model code is ours
(:mod:`ainode_plugin_timer.timer.modeling`, :mod:`ainode_plugin_timer.sundial.modeling`) and loads the
official checkpoints unchanged. Both types can be fine-tuned (:mod:`ainode_plugin_timer.finetune`).

Importing this module is cheap: torch and transformers are imported when a pipeline is built.
"""
from __future__ import annotations

from ainode_core import BuiltinModel, ModelTypeSpec, hookimpl
from ainode_plugin_timer.finetune import HYPERPARAMETERS, finetune_sundial, finetune_timer
from ainode_plugin_timer.sundial.pipeline import SundialPipeline
from ainode_plugin_timer.timer.pipeline import TimerPipeline

__all__ = ["SundialPipeline", "TimerPipeline", "ainode_register_model_types"]

_FLOAT32 = 4
TIMER_PARAMETERS = 84_142_080  # thuml/timer-base-84m
SUNDIAL_PARAMETERS = 128_329_680  # thuml/sundial-base-128m


@hookimpl
def ainode_register_model_types() -> list[ModelTypeSpec]:
    return [
        ModelTypeSpec(
            model_type="timer",
            pipeline_cls=TimerPipeline,
            tasks=("forecast",),
            description="Timer-XL: decoder-only transformer forecasting by 96-point patches (THUML)",
            capabilities=frozenset({"batching", "finetune"}),
            estimated_size_bytes=TIMER_PARAMETERS * _FLOAT32,
            finetune=finetune_timer,
            finetune_hyperparameters=HYPERPARAMETERS,
            builtin_models=(
                BuiltinModel(
                    model_id="timer_xl",
                    task="forecast",
                    description="Timer-XL base, 84M parameters, zero-shot forecasting",
                    config={"revin": True},
                    hf_repo_id="thuml/timer-base-84m",
                ),
            ),
        ),
        ModelTypeSpec(
            model_type="sundial",
            pipeline_cls=SundialPipeline,
            tasks=("forecast",),
            description="Sundial: generative (flow-matching) time-series foundation model (THUML)",
            capabilities=frozenset({"batching", "sampling", "quantiles", "finetune"}),
            estimated_size_bytes=SUNDIAL_PARAMETERS * _FLOAT32,
            finetune=finetune_sundial,
            finetune_hyperparameters=HYPERPARAMETERS,
            builtin_models=(
                BuiltinModel(
                    model_id="sundial",
                    task="forecast",
                    description="Sundial base, 128M parameters, probabilistic forecasting (mean of samples)",
                    config={"revin": True, "num_samples": 10},
                    hf_repo_id="thuml/sundial-base-128m",
                ),
            ),
        ),
    ]
