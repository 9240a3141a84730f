"""The plugin's own tests: the entry point first, then every check of ainode's plugin test kit."""
from __future__ import annotations

from ainode_core.plugins import PluginManager
from ainode_core.records import normalise_name
from ainode_core.testing import parametrize_with_checks

from ainode_plugin_{{ cookiecutter.plugin_name }} import MODEL_TYPE, ainode_register_model_types

DISTRIBUTION = "ainode-plugin-{{ cookiecutter.plugin_name }}"


def test_distribution_is_in_the_plugin_listing():
    # The classic packaging bug: no [project.entry-points."ainode.plugins"] (or not installed: pip install -e .).
    listing = PluginManager(strict=False).listing()
    mine = [p for p in listing if normalise_name(p["distribution"] or "") == normalise_name(DISTRIBUTION)]
    assert mine, f"{DISTRIBUTION} is not in the plugin listing; check its entry point and `pip install -e .`"
    assert mine[0]["errors"] == [], mine[0]["errors"]
    assert MODEL_TYPE in mine[0]["registered"].get("model_types", [])


# expected_failures={"check_name": "why"} marks a check you cannot pass yet (xfail, strict).
@parametrize_with_checks(ainode_register_model_types(), expected_failures={})
def test_ainode_checks(spec, check):
    check(spec)
