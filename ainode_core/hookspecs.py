"""Every hook an ainode plugin can implement.

A plugin is a module (or object) whose functions are marked with ``@hookimpl`` and whose names match the
specs below. The core calls each plugin's hook on its own, always with keyword arguments, so a spec may grow
an argument later without breaking older plugins (a plugin only declares the arguments it uses).

Registration hooks return a list of frozen records from :mod:`ainode_core.records`; the plugin manager
attributes each record to its plugin and refuses duplicate names. Lifecycle hooks are observers: what they
return is ignored and an exception in one is logged, never propagated.

Example plugin::

    from ainode_core import hookimpl, ModelTypeSpec, BuiltinModel

    @hookimpl
    def ainode_register_model_types():
        return [ModelTypeSpec(model_type="my_model", pipeline_cls=MyPipeline,
                              builtin_models=(BuiltinModel("my_model_small"),))]
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ainode_core.config import Settings
    from ainode_core.inference.events import InferenceEvent
    from ainode_core.records import DataSource, DeviceBackend, ModelStorage, ModelTypeSpec, PipelineSpec

PROJECT_NAME = "ainode"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# --- registration hooks -------------------------------------------------------------------------------


@hookspec
def ainode_register_model_types() -> list["ModelTypeSpec"]:
    """Called once when plugins are loaded. Return the model types this plugin serves.

    Each :class:`~ainode_core.records.ModelTypeSpec` names its ``model_type`` (unique across every plugin,
    user model and transformers config), its pipeline class and the built-in models it ships.
    """


@hookspec
def ainode_register_pipelines() -> list["PipelineSpec"]:
    """Called once when plugins are loaded. Return base pipelines for new tasks (one per task name).

    The core registers ``forecast``, ``anomaly_detection`` and ``classification`` itself.
    """


@hookspec
def ainode_register_device_backends() -> list["DeviceBackend"]:
    """Called once when plugins are loaded. Return device backends (the core ships ``cpu`` and ``cuda``)."""


@hookspec
def ainode_register_model_storages() -> list["ModelStorage"]:
    """Called once when plugins are loaded. Return URI schemes models can be registered from
    (the core ships ``file`` and ``hf``)."""


@hookspec
def ainode_register_data_sources() -> list["DataSource"]:
    """Called once when plugins are loaded. Return data sources for datasets (IoTDB, TsFile, CSV, ...):
    ``DataSource(name, read, schemes)`` with ``read(schema_name, time_range, settings)`` yielding
    ``(name, 1-D float64 array)``; a request's dbType picks a source by name, a ``scheme://`` by scheme."""


# --- lifecycle observers -------------------------------------------------------------------------------


@hookspec
def ainode_startup(settings: "Settings") -> None:
    """Called when the node has loaded its plugins and catalog, before it accepts requests."""


@hookspec
def ainode_shutdown() -> None:
    """Called once when the node stops, after in-flight requests are finished."""


@hookspec
def ainode_before_inference(model_id: str, batch_size: int, options: dict[str, Any]) -> None:
    """Called right before a model call (one call may serve a batch of requests)."""


@hookspec
def ainode_after_inference(event: "InferenceEvent") -> None:
    """Called after each model call with its model id, batch size, queue wait and compute time."""


@hookspec
def ainode_model_loaded(model_id: str, device_id: str, load_seconds: float) -> None:
    """Called after an instance of a model is created on a device (on demand or by LOAD MODEL)."""


# --- decisions -----------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def ainode_choose_instance_count(model_id: str, device_id: str, device_type: str, device_memory_bytes: int,
                                 model_size_bytes: int, models_on_device: int, formula_count: int) -> int | None:
    """LOAD MODEL placement: how many instances of ``model_id`` to keep on the device. ``formula_count`` is
    the contract's formula; return another count (>= 1) to override it, or None to keep it. The first
    plugin that answers decides."""


REGISTRATION_HOOKS: dict[str, str] = {
    "model_types": "ainode_register_model_types",
    "pipelines": "ainode_register_pipelines",
    "device_backends": "ainode_register_device_backends",
    "model_storages": "ainode_register_model_storages",
    "data_sources": "ainode_register_data_sources",
}
