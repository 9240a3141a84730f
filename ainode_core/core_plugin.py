"""The core's own plugin: base pipelines, the cpu and cuda device backends, the file/hf storages and the
file / iotdb.tree / iotdb.table data sources.

Registered like any other plugin so that the registries treat the core's records the same way.
"""
from __future__ import annotations

from ainode_core.hookspecs import hookimpl
from ainode_core.records import DataSource, DeviceBackend, ModelStorage, PipelineSpec


@hookimpl
def ainode_register_pipelines() -> list[PipelineSpec]:
    from ainode_core.pipelines.base import BASE_PIPELINES

    return [PipelineSpec(task=task, base_cls=cls) for task, cls in BASE_PIPELINES.items()]


@hookimpl
def ainode_register_device_backends() -> list[DeviceBackend]:
    from ainode_core.inference.devices import list_cpu_devices, list_cuda_devices

    return [DeviceBackend("cpu", list_cpu_devices), DeviceBackend("cuda", list_cuda_devices)]


@hookimpl
def ainode_register_model_storages() -> list[ModelStorage]:
    from ainode_core.models.storages import fetch_file_uri, fetch_hf_uri

    return [ModelStorage("file", fetch_file_uri), ModelStorage("hf", fetch_hf_uri)]


@hookimpl
def ainode_register_data_sources() -> list[DataSource]:
    from ainode_core.ingress.sources import BUILTIN_DATA_SOURCES

    return list(BUILTIN_DATA_SOURCES)
