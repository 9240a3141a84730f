"""The built-in device backends: ``cpu`` (always) and ``cuda`` (one device per visible GPU)."""
from __future__ import annotations

import importlib.util

import psutil

from ainode_core.records import DeviceInfo


def list_cpu_devices() -> list[DeviceInfo]:
    return [DeviceInfo("cpu", "cpu", "cpu", psutil.virtual_memory().total)]


def list_cuda_devices() -> list[DeviceInfo]:
    # Importing torch costs a second; only do it when torch is installed at all.
    if importlib.util.find_spec("torch") is None:
        return []
    import torch

    if not torch.cuda.is_available():
        return []
    return [
        DeviceInfo(str(index), "cuda", f"cuda:{index}", torch.cuda.get_device_properties(index).total_memory)
        for index in range(torch.cuda.device_count())
    ]
