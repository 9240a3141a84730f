"""Samples CPU, memory and disk in the background so a heartbeat answers in microseconds.

(Apache's AINode blocks each heartbeat for a second measuring CPU; the ConfigNode's heartbeat then
competes with that wait. Here the heartbeat reads the latest sample.)
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass(frozen=True)
class LoadSample:
    cpu_percent: float
    memory_percent: float
    disk_percent: float
    free_disk_gib: float


class LoadSampler:
    def __init__(self, disk_path: Path, interval_seconds: float = 5.0) -> None:
        self.disk_path = disk_path
        self.interval = interval_seconds
        psutil.cpu_percent(interval=None)  # primes the counter; the next call measures since now
        self._latest = self._measure()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="load-sampler", daemon=True)
        self._thread.start()

    def _measure(self) -> LoadSample:
        disk = psutil.disk_usage(str(self.disk_path))
        return LoadSample(
            cpu_percent=psutil.cpu_percent(interval=None),
            memory_percent=psutil.virtual_memory().percent,
            disk_percent=disk.percent,
            free_disk_gib=disk.free / 2**30,
        )

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._latest = self._measure()

    @property
    def latest(self) -> LoadSample:
        return self._latest

    def stop(self) -> None:
        self._stop.set()
