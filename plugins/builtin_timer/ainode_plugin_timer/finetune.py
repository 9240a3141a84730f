"""Fine-tuning Timer-XL and Sundial on a dataset of series (``CREATE MODEL new FROM MODEL base ...``).

``ModelTypeSpec.finetune`` calls ``finetune(model_info, dataset, params, output_dir, progress)``:

* ``dataset``: the training series: an iterable of 1-D arrays, of ``(name, array)`` pairs (what a
  ``DataSource.read`` yields) or a 2-D array (one series per row). NaNs are filled as for inference.
* ``params`` (strings or values): ``train_epochs`` (1), ``iter_per_epoch`` (50), ``learning_rate``
  (1e-5), ``batch_size`` (8), ``context_length`` (672 for Timer-XL, 480 for Sundial; rounded down to
  whole patches), ``seed`` (0), ``device`` (``cuda:0`` when available, else ``cpu``).
* ``output_dir``: receives ``config.json`` + ``model.safetensors`` in the official format, so the result
  is served by the same pipeline (model_type unchanged).
* ``progress(message)``: called after every iteration with the epoch, iteration and loss.
* ``device``: the torch device the node chose (the ``device`` hyperparameter is the fallback).

Returns ``{"loss": last, "best_epoch_loss": ..., "losses": [every iteration's loss]}``; the weights saved
are those of the epoch with the lowest mean training loss.

Training windows of ``context_length`` plus one output patch are cut from the newest end of each series
(stride one patch); each window is normalised by its context's mean/std (the RevIN the models see at
inference), and the loss is each model's own training loss: every head's MSE for Timer-XL, the TimeFlow
flow-matching loss for Sundial.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.pipelines.base import ModelInfo
from ainode_core.training.datasets import named_series
from ainode_core.training.progress import epoch_progress
from ainode_plugin_timer.options import get_int
from ainode_plugin_timer.series import clean_series

MAX_WINDOWS = 20_000
# What _finetune reads (ModelTypeSpec.finetune_hyperparameters: any other name is refused up front).
HYPERPARAMETERS = ("train_epochs", "iter_per_epoch", "learning_rate", "batch_size", "context_length", "seed")


def _float(params: Mapping[str, Any], name: str, default: float) -> float:
    value = params.get(name, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise InvalidInferenceConfigError(f"Hyperparameter {name} expects a positive number, got {value!r} instead.")
    return number


def _series_of(dataset: Any) -> list[np.ndarray]:
    return [clean_series(values, f"training {name}") for name, values in named_series(dataset)]


def _windows(series: list[np.ndarray], length: int, stride: int) -> np.ndarray:
    windows = []
    for values in series:
        for end in range(len(values), length - 1, -stride):
            windows.append(values[end - length:end])
            if len(windows) >= MAX_WINDOWS:
                return np.stack(windows).astype(np.float32)
    if not windows:
        longest = max((len(values) for values in series), default=0)
        raise InvalidInferenceConfigError(
            f"The training data has no series of {length} points (context_length plus one output patch); "
            f"the longest has {longest}. Use a smaller context_length or more data."
        )
    return np.stack(windows).astype(np.float32)


def _finetune(kind: str, model_info: ModelInfo, dataset: Any, params: Mapping[str, Any], output_dir: Path | str,
              progress: Callable[[str], None] | None, device: str | None) -> dict[str, Any]:
    import torch

    from ainode_plugin_timer.weights import load_pretrained

    if kind == "timer":
        from ainode_plugin_timer.timer.modeling import TimerForPrediction as model_cls
    else:
        from ainode_plugin_timer.sundial.modeling import SundialForPrediction as model_cls
    params = dict(params or {})
    epochs = get_int(params, "train_epochs", 1, 1, 10_000)
    iterations = get_int(params, "iter_per_epoch", 50, 1, 1_000_000)
    batch_size = get_int(params, "batch_size", 8, 1, 4096)
    seed = get_int(params, "seed", 0, 0, 2**63 - 1)
    learning_rate = _float(params, "learning_rate", 1e-5)
    device = str(device or params.get("device") or ("cuda:0" if torch.cuda.is_available() else "cpu"))

    model = load_pretrained(model_cls, model_info.path, device, model_info.model_id)
    config = model.config
    patch = config.input_token_len
    output_len = max(config.output_token_lens)
    context = get_int(params, "context_length", 672 if kind == "timer" else 480, patch, 2880) // patch * patch
    windows = torch.from_numpy(_windows(_series_of(dataset), context + output_len, patch))

    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    sampler = torch.Generator().manual_seed(seed)
    model.train()
    loss_value = math.nan
    losses: list[float] = []
    best_loss, best_state = math.inf, None
    with torch.random.fork_rng(devices=[]):  # Sundial's loss draws noise: reproducible, global RNG untouched
        torch.manual_seed(seed)
        for epoch in range(epochs):
            epoch_losses = []
            for iteration in range(iterations):
                batch = windows[torch.randint(len(windows), (batch_size,), generator=sampler)].to(device)
                inputs = batch[:, :context]
                mean = inputs.mean(dim=-1, keepdim=True)
                std = inputs.std(dim=-1, keepdim=True).clamp(min=1e-5)
                batch = (batch - mean) / std
                if kind == "timer":
                    loss = model(batch[:, :context], labels=batch[:, patch:]).loss
                else:
                    tokens = context // patch
                    loss = model(batch[:, :context], labels=batch[:, patch:],
                                 loss_masks=batch.new_ones(batch_size, tokens),
                                 mask_y=batch.new_ones(batch_size, output_len)).loss
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                loss_value = float(loss.detach())
                losses.append(loss_value)
                epoch_losses.append(loss_value)
                if progress is not None:
                    progress(epoch_progress(epoch * iterations + iteration + 1, epochs, iterations, loss_value))
            # The best epoch (mean training loss) is what gets saved, not merely the last one.
            epoch_loss = float(np.mean(epoch_losses))
            if epoch_loss < best_loss:
                best_loss = epoch_loss
                best_state = {name: value.detach().to("cpu", copy=True) for name, value in model.state_dict().items()}
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    model.to("cpu").save_pretrained(output_dir, safe_serialization=True)
    return {"loss": loss_value, "best_epoch_loss": best_loss, "losses": losses}


def finetune_timer(model_info: ModelInfo, dataset: Iterable[Any], params: Mapping[str, Any],
                   output_dir: Path | str, progress: Callable[[str], None] | None = None,
                   device: str | None = None) -> dict[str, Any]:
    return _finetune("timer", model_info, dataset, params, output_dir, progress, device)


def finetune_sundial(model_info: ModelInfo, dataset: Iterable[Any], params: Mapping[str, Any],
                     output_dir: Path | str, progress: Callable[[str], None] | None = None,
                     device: str | None = None) -> dict[str, Any]:
    return _finetune("sundial", model_info, dataset, params, output_dir, progress, device)
