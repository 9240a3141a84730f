"""Fine-tuning (``CREATE MODEL new WITH HYPERPARAMETERS(...) FROM MODEL chronos2 ON DATASET (...)``).

Runs chronos-forecasting's own ``Chronos2Pipeline.fit`` (full fine-tuning on a copy of the weights) and
writes the result as ``config.json`` + ``model.safetensors`` into ``output_dir``, so the new model is served
by the same pipeline as its base.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.pipelines.base import ModelInfo
from ainode_core.training.progress import epoch_progress

# Hyperparameter → (type, default). train_epochs × iter_per_epoch = optimiser steps.
HYPERPARAMETERS: dict[str, tuple[type, Any]] = {
    "train_epochs": (int, 1),
    "iter_per_epoch": (int, 100),
    "learning_rate": (float, 1e-6),  # chronos' recommendation for full fine-tuning
    "batch_size": (int, 32),  # rows (targets + covariates) per step
    "prediction_length": (int, 64),
    "context_length": (int, 2048),
}


def parse_hyperparameters(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """SQL hyperparameters arrive as strings: typed values with defaults, 1512 on a bad key or value."""
    params = dict(params or {})
    unknown = sorted(set(params) - set(HYPERPARAMETERS))
    if unknown:
        raise InvalidInferenceConfigError(
            f"Unknown hyperparameter(s) {', '.join(unknown)} for chronos2; allowed: {', '.join(HYPERPARAMETERS)}"
        )
    parsed: dict[str, Any] = {}
    for name, (kind, default) in HYPERPARAMETERS.items():
        value = params.get(name, default)
        try:
            parsed[name] = kind(value)
        except (TypeError, ValueError):
            raise InvalidInferenceConfigError(
                f"Hyperparameter {name} must be {'an integer' if kind is int else 'a number'}, got {value!r}"
            ) from None
        if parsed[name] <= 0:
            raise InvalidInferenceConfigError(f"Hyperparameter {name} must be positive, got {value!r}")
    return parsed


def _training_series(dataset: Iterable[Any]) -> list[dict[str, Any]]:
    """Accepts what a data source yields: ``(name, array)`` pairs, arrays ``[L]``/``[C, L]``, or forecast
    input dicts ``{"targets": ..., "past_covariates": {...}}``."""
    series = []
    for item in dataset:
        if isinstance(item, Mapping):
            entry = {"target": np.asarray(item["targets"], dtype=np.float32)}
            if item.get("past_covariates"):
                entry["past_covariates"] = {
                    name: np.asarray(values, dtype=np.float32) for name, values in item["past_covariates"].items()
                }
            series.append(entry)
        else:
            values = item[1] if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str) else item
            series.append({"target": np.asarray(values, dtype=np.float32)})
    if not series:
        raise InvalidInferenceConfigError("The fine-tuning dataset is empty; select at least one series")
    return series


def finetune(model_info: ModelInfo, dataset: Iterable[Any], params: Mapping[str, Any] | None,
             output_dir: Path, progress: Callable[[str], None] = lambda message: None,
             device: str = "cpu") -> dict[str, Any]:
    """Fine-tune ``model_info``'s weights on ``dataset`` into ``output_dir``; returns the logged training
    losses (``{"losses": [...], "loss": last}``)."""
    from transformers.trainer_callback import TrainerCallback

    from ainode_plugin_chronos2.loading import load_chronos2

    hyper = parse_hyperparameters(params)
    series = _training_series(dataset)
    # chronos samples windows of at least prediction_length of history plus prediction_length to learn.
    shortest = 2 * hyper["prediction_length"]
    if not any(np.asarray(entry["target"]).shape[-1] >= shortest for entry in series):
        raise InvalidInferenceConfigError(
            f"Every series in the dataset is shorter than 2 x prediction_length = {shortest} rows; "
            "select more data or lower prediction_length"
        )
    base = load_chronos2(model_info.model_id, model_info.path, device)
    steps = hyper["train_epochs"] * hyper["iter_per_epoch"]
    losses: list[float] = []

    class _Progress(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any) -> None:
            if not logs or "loss" not in logs:
                return  # the trainer's closing summary (runtime, samples/s) is not progress
            losses.append(float(logs["loss"]))
            progress(epoch_progress(state.global_step, hyper["train_epochs"], hyper["iter_per_epoch"],
                                    float(logs["loss"])))

    progress(f"fine-tuning {model_info.model_id}: {hyper['train_epochs']} epochs of {hyper['iter_per_epoch']} "
             f"iterations ({steps} steps) on {len(series)} series")
    with tempfile.TemporaryDirectory(prefix="chronos2-finetune-") as scratch:
        tuned = base.fit(
            inputs=series,
            prediction_length=hyper["prediction_length"],
            context_length=min(hyper["context_length"], base.model_context_length),
            learning_rate=hyper["learning_rate"],
            num_steps=steps,
            batch_size=hyper["batch_size"],
            output_dir=scratch,  # the trainer's own files are not kept
            callbacks=[_Progress()],
            remove_printer_callback=True,
            logging_steps=max(1, steps // 10),
            disable_tqdm=True,
        )
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    tuned.save_pretrained(output_dir)
    progress(f"fine-tuned weights written to {output_dir}")
    return {"losses": losses, "loss": losses[-1] if losses else float("nan")}
