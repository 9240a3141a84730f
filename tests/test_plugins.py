"""The plugin system, seen through `ainode plugins --json` and the Python API."""
from __future__ import annotations

import json

import pytest

from ainode_core import hookimpl
from ainode_core.errors import PluginError
from ainode_core.plugins import PluginManager
from tests.conftest import plugin_code, run_cli


def plugins_json(**env) -> dict:
    result = run_cli("plugins", "--json", "--all", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def by_name(listing: dict) -> dict:
    return {p["name"]: p for p in listing["plugins"]}


def test_third_party_distribution_is_discovered_and_attributed(make_dist):
    make_dist("ainode-plugin-echo", "ainode_plugin_echo", plugin_code("echo", "echo_last"), version="2.3.4")
    echo = by_name(plugins_json())["ainode_plugin_echo"]
    assert echo["distribution"] == "ainode-plugin-echo"
    assert echo["version"] == "2.3.4"
    assert echo["registered"] == {"builtin_models": ["echo_last"], "model_types": ["echo"]}
    assert "ainode_register_model_types" in echo["hooks"]
    assert echo["errors"] == []

    manager = PluginManager()
    registered = manager.model_type("ECHO")  # names are normalised
    assert registered is not None and registered.plugin == "ainode_plugin_echo"


def test_two_plugins_claiming_one_model_type_are_both_reported_and_neither_registered(make_dist):
    make_dist("ainode-plugin-one", "ainode_plugin_one", plugin_code("twin", "twin_one"))
    make_dist("ainode-plugin-two", "ainode_plugin_two", plugin_code("Twin", "twin_two"))
    listing = plugins_json()
    conflict = next(c for c in listing["conflicts"] if c["name"] == "twin")
    assert conflict["claimants"] == ["ainode_plugin_one", "ainode_plugin_two"]
    assert "ainode_plugin_one" in conflict["message"] and "ainode_plugin_two" in conflict["message"]
    plugins = by_name(listing)
    assert "model_types" not in plugins["ainode_plugin_one"]["registered"]
    assert "model_types" not in plugins["ainode_plugin_two"]["registered"]

    manager = PluginManager()
    assert manager.model_type("twin") is None
    assert "twin_one" not in manager.registry("builtin_models")
    with pytest.raises(PluginError, match="ainode_plugin_one, ainode_plugin_two"):
        PluginManager(strict=True)


def test_operator_override_picks_one_claimant(make_dist, monkeypatch):
    make_dist("ainode-plugin-one", "ainode_plugin_one", plugin_code("twin", "twin_one"))
    make_dist("ainode-plugin-two", "ainode_plugin_two", plugin_code("twin", "twin_two"))
    monkeypatch.setenv("AINODE_PLUGIN_OVERRIDES", "twin=ainode_plugin_two")
    manager = PluginManager()
    assert manager.model_type("twin").plugin == "ainode_plugin_two"
    assert "twin_two" in manager.registry("builtin_models")


def test_plugin_that_fails_to_import_is_skipped_with_a_warning_and_raises_in_strict_mode(make_dist, caplog):
    make_dist("ainode-plugin-broken", "ainode_plugin_broken", "raise RuntimeError('boom at import')\n")
    make_dist("ainode-plugin-fine", "ainode_plugin_fine", plugin_code("fine", "fine_model"))
    manager = PluginManager()
    assert manager.model_type("fine") is not None
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("ainode_plugin_broken" in w and "boom at import" in w and "AINODE_DISABLE_PLUGINS" in w
               for w in warnings)

    listing = by_name(plugins_json())  # the CLI still works with a broken plugin installed
    assert "boom at import" in listing["ainode_plugin_broken"]["errors"][0]
    assert listing["ainode_plugin_fine"]["errors"] == []

    with pytest.raises(PluginError, match="boom at import"):
        PluginManager(strict=True)
    strict = run_cli("plugins", "--json", env={"AINODE_STRICT_PLUGINS": "1"})
    assert strict.returncode != 0 and "boom at import" in strict.stderr


def test_blocklist_and_allowlist(make_dist, monkeypatch):
    make_dist("ainode-plugin-aa", "ainode_plugin_aa", plugin_code("aa", "aa_model"))
    make_dist("ainode-plugin-bb", "ainode_plugin_bb", plugin_code("bb", "bb_model"))

    monkeypatch.setenv("AINODE_DISABLE_PLUGINS", "ainode-plugin-aa")
    blocked = PluginManager()
    assert blocked.model_type("aa") is None and blocked.model_type("bb") is not None
    monkeypatch.delenv("AINODE_DISABLE_PLUGINS")

    monkeypatch.setenv("AINODE_LOAD_PLUGINS", "ainode_plugin_bb")
    allowed = PluginManager()
    assert set(allowed.plugins) == {"ainode_core", "ainode_plugin_bb"}

    monkeypatch.setenv("AINODE_LOAD_PLUGINS", "")
    assert set(PluginManager().plugins) == {"ainode_core"}  # empty = no plugins but the core


def test_misspelled_hook_is_reported():
    class Typo:
        @hookimpl
        def ainode_register_modeltypes(self):  # missing underscore
            return []

    manager = PluginManager(load_entry_points=False)
    info = manager.add_plugin(Typo(), "typo")
    assert info.errors and "ainode_register_modeltypes" in info.errors[0]


def test_plugin_returning_garbage_fails_alone():
    class Garbage:
        @hookimpl
        def ainode_register_model_types(self):
            return ["not a record"]

    manager = PluginManager(load_entry_points=False)
    info = manager.add_plugin(Garbage(), "garbage")
    assert "ainode_register_model_types" in info.errors[0]
    assert manager.registry("device_backends")  # the core's records are intact


def test_builtin_model_type_cannot_be_shadowed_by_a_third_party(make_dist):
    make_dist("ainode-plugin-evil", "ainode_plugin_evil", plugin_code("sktime", "evil_model"))
    manager = PluginManager()
    registered = manager.model_type("sktime")
    assert registered is not None and registered.plugin != "ainode_plugin_evil"
    assert any("ainode_plugin_evil" in c.claimants for c in manager.conflicts)
    assert "evil_model" not in manager.registry("builtin_models")
