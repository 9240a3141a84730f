"""Typed, frozen records that plugins return from registration hooks.

Each registration hook (see :mod:`ainode_core.hookspecs`) returns a list of these. The plugin manager
attributes every record to the plugin that returned it and enforces that names are unique per kind.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ainode_core.pipelines.base import Pipeline

TASKS = ("forecast", "anomaly_detection", "classification")


def normalise_name(name: str) -> str:
    """Names are compared case-insensitively with '-' and '_' treated alike."""
    return name.strip().lower().replace("-", "_")


def _frozen_mapping(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class BuiltinModel:
    """A model a plugin ships, listed in SHOW MODELS with category ``builtin`` from the first start.

    ``config`` holds the default settings (IoTDB's config.json values); a request's options override them.
    ``hf_repo_id`` names where the weights come from; ``None`` means the model needs no weights.
    ``noncommercial_licence`` names the licence of weights that may not be used commercially (e.g.
    ``"CC BY-NC 4.0"``): SHOW MODELS' reason says so, and the node downloads them only when the operator opts
    in with ``ain_fetch_noncommercial_weights=true``.
    """

    model_id: str
    task: str = "forecast"
    description: str = ""
    config: Mapping[str, Any] = field(default_factory=dict)
    hf_repo_id: str | None = None
    weight_files: tuple[str, ...] = ("config.json", "model.safetensors")
    noncommercial_licence: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "config", _frozen_mapping(self.config))
        if self.task not in TASKS:
            raise ValueError(f"BuiltinModel {self.model_id!r}: task must be one of {TASKS}, got {self.task!r}")

    @property
    def needs_weights(self) -> bool:
        return self.hf_repo_id is not None

    @property
    def licence_note(self) -> str:
        """What the model's reason says about its weights' licence (empty when nothing restricts them)."""
        if not self.noncommercial_licence:
            return ""
        return f"weights licensed {self.noncommercial_licence}: non-commercial use only"


@dataclass(frozen=True)
class ModelTypeSpec:
    """One model family (transformers' ``model_type``), the pipeline that serves it and the models it ships.

    ``pipeline_cls`` is a subclass of :class:`ainode_core.pipelines.ForecastPipeline` (or another base
    pipeline) built as ``pipeline_cls(model_info, device=...)``. ``capabilities`` are free-form tags the core
    understands: ``"covariates"``, ``"quantiles"``, ``"finetune"``, ``"batching"``, ``"sampling"``.
    ``estimated_size_bytes`` feeds LOAD MODEL's placement formula; ``None`` means measure after loading.
    ``finetune`` (optional) trains a copy of a model: ``finetune(model_info, dataset, params, output_dir,
    progress)``. ``finetune_hyperparameters`` names the hyperparameters it reads: any other name is refused
    before the job starts, with a "did you mean"; ``None`` (undeclared) refuses only near-misses of the
    common names (``train_epoch`` for ``train_epochs``) and passes the rest through.
    """

    model_type: str
    pipeline_cls: type["Pipeline"]
    tasks: tuple[str, ...] = ("forecast",)
    builtin_models: tuple[BuiltinModel, ...] = ()
    description: str = ""
    capabilities: frozenset[str] = frozenset()
    estimated_size_bytes: int | None = None
    finetune: Callable[..., Any] | None = None
    finetune_hyperparameters: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", tuple(self.tasks))
        if self.finetune_hyperparameters is not None:
            object.__setattr__(self, "finetune_hyperparameters", tuple(self.finetune_hyperparameters))
        object.__setattr__(self, "builtin_models", tuple(self.builtin_models))
        object.__setattr__(self, "capabilities", frozenset(self.capabilities))
        unknown = [t for t in self.tasks if t not in TASKS]
        if unknown:
            raise ValueError(f"ModelTypeSpec {self.model_type!r}: unknown tasks {unknown}; allowed: {TASKS}")

    @property
    def name(self) -> str:
        return self.model_type


@dataclass(frozen=True)
class PipelineSpec:
    """A base pipeline for a task (``forecast``, ``anomaly_detection``, ...) that model pipelines subclass."""

    task: str
    base_cls: type

    @property
    def name(self) -> str:
        return self.task


@dataclass(frozen=True)
class DeviceInfo:
    """One device a backend offers: ``device_id`` as SQL users write it (``cpu``, ``0``), its type
    (``cpu``, ``cuda``), the torch device string and the memory available for model instances."""

    device_id: str
    device_type: str
    torch_device: str
    total_memory_bytes: int


@dataclass(frozen=True)
class DeviceBackend:
    """A kind of accelerator. ``list_devices`` is called when devices are shown or chosen."""

    name: str
    list_devices: Callable[[], Iterable[DeviceInfo]]


@dataclass(frozen=True)
class ModelStorage:
    """A URI scheme models can be registered from: ``fetch(uri, destination_dir, progress)`` copies the
    model folder's files into ``destination_dir`` (which exists and is empty)."""

    scheme: str
    fetch: Callable[[str, Path, Callable[[str], None]], None]

    @property
    def name(self) -> str:
        return self.scheme


@dataclass(frozen=True)
class DataSource:
    """Where training or inference data comes from. ``read(schema_name, time_range, settings)`` yields
    ``(name, 1-D float64 array)`` pairs; ``time_range`` is ``[start, end)`` in epoch ms or None. ``schemes``:
    the URI schemes it claims (``file`` for ``file://...``), whatever the request's dbType."""

    name: str
    read: Callable[..., Iterator[tuple[str, Any]]]
    schemes: tuple[str, ...] = ()
