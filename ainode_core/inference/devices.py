"""The built-in device backends: ``cpu`` (always) and ``cuda`` (one device per visible GPU)."""
from __future__ import annotations

import importlib.util
import os

import psutil

from ainode_core.records import DeviceInfo


def cpu_cores() -> int:
    """The cores this process may run on (its affinity: a container or ``taskset`` may allow fewer than the
    machine has)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


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
