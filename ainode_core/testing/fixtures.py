"""Fixtures of the plugin test kit. They never import torch."""
from __future__ import annotations

import pytest


@pytest.fixture
def ainode_strict_plugins(monkeypatch):
    """Inside the test kit a plugin that fails to load is an error, not a warning."""
    monkeypatch.setenv("AINODE_STRICT_PLUGINS", "1")


@pytest.fixture
def ainode_plugin_manager(ainode_strict_plugins):
    """A fresh plugin manager with strict loading (entry points discovered anew)."""
    from ainode_core.plugins import PluginManager

    return PluginManager(strict=True)


@pytest.fixture
def ainode_home(tmp_path, monkeypatch):
    """An empty node home with its own config file; IOTDB_AINODE_HOME points at it."""
    home = tmp_path / "ainode-home"
    (home / "conf").mkdir(parents=True)
    (home / "conf" / "iotdb-ainode.properties").write_text(
        "ain_rpc_port=0\nain_fetch_builtin_weights=false\n")
    monkeypatch.setenv("IOTDB_AINODE_HOME", str(home))
    return home


@pytest.fixture
def ainode_series():
    """``ainode_series(channels, length, seed=0)``: a positive, seasonal float64 ``[C, L]`` test series."""
    from ainode_core.testing.checks import make_series

    return make_series
