"""The AINode process: settings, plugins, catalog, engine and (when started) the Thrift server.

The same object serves the Thrift handler, the CLI in standalone mode and tests, so that every surface
goes through one set of rules.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from ainode_core.config import Settings
from ainode_core.inference.engine import InferenceEngine
from ainode_core.inference.placement import Placement
from ainode_core.models.catalog import ModelCatalog
from ainode_core.models.manager import ModelManager
from ainode_core.models.weights import fetch_missing_builtins, watch_placed_weights
from ainode_core.plugins import PluginManager, get_plugin_manager

log = logging.getLogger(__name__)


class AINode:
    def __init__(self, settings: Settings, plugins: PluginManager | None = None) -> None:
        self.settings = settings
        self.plugins = plugins or get_plugin_manager()
        for directory in (settings.ain_system_dir, settings.ain_models_dir, settings.ain_logs_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self.catalog = ModelCatalog(settings.ain_models_dir, self.plugins)
        self.engine = InferenceEngine(settings, self.catalog, self.plugins)
        self.models = ModelManager(settings, self.catalog, self.plugins, self.engine)
        self.placement = Placement(settings, self.catalog, self.engine)
        self.stopped = threading.Event()
        self._background: list[threading.Thread] = []

    def start_background_work(self) -> None:
        """Work that must not delay start-up: fetching missing built-in weights, loading again the models that
        were loaded before the last stop."""
        if self.settings.ain_fetch_builtin_weights:
            self._background += fetch_missing_builtins(
                self.catalog, noncommercial=self.settings.ain_fetch_noncommercial_weights)
        self._background.append(watch_placed_weights(self.catalog, self.stopped))  # weights copied in by hand
        self.placement.restore()
        self.plugins.notify("ainode_startup", settings=self.settings)

    def shutdown(self) -> None:
        if self.stopped.is_set():
            return
        self.stopped.set()
        self.models.shutdown()
        self.engine.shutdown()
        self.plugins.notify("ainode_shutdown")

    def describe(self) -> dict[str, Any]:
        host, port = self.settings.rpc_endpoint
        return {"rpc": f"{host}:{port}", "models_dir": str(self.settings.ain_models_dir),
                "models": len(self.catalog.list())}
