"""ainode: a pluggable AI node for Apache IoTDB.

Public surface for plugin authors::

    from ainode_core import hookimpl, ModelTypeSpec, BuiltinModel
"""
from ainode_core.hookspecs import hookimpl
from ainode_core.records import (
    BuiltinModel,
    DataSource,
    DeviceBackend,
    DeviceInfo,
    ModelStorage,
    ModelTypeSpec,
    PipelineSpec,
)

__version__ = "0.1.0"

__all__ = [
    "hookimpl",
    "BuiltinModel",
    "DataSource",
    "DeviceBackend",
    "DeviceInfo",
    "ModelStorage",
    "ModelTypeSpec",
    "PipelineSpec",
    "__version__",
]
