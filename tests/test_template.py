"""The cookiecutter template renders a plugin that installs, passes its own tests and shows up in a node."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cookiecutter.main import cookiecutter

from ainode_core.client import AINodeClient
from ainode_core.testing import CHECKS
from ainode_core.testing.node import RunningNode, make_home

REPO = Path(__file__).resolve().parents[1]
PLUGIN = "tmplcheck"  # unusual name: nothing else installed claims it
MODEL_TYPE = "tmplcheck_drift"


def _pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
                          capture_output=True, text=True, timeout=300)


def test_rendered_plugin_installs_passes_its_tests_and_is_served(tmp_path):
    project = Path(cookiecutter(str(REPO / "template"), no_input=True, output_dir=str(tmp_path),
                                extra_context={"plugin_name": PLUGIN, "model_type": MODEL_TYPE,
                                               "author": "Test Kit"}))
    assert project.name == f"ainode-plugin-{PLUGIN}"
    assert f'{PLUGIN} = "ainode_plugin_{PLUGIN}"' in (project / "pyproject.toml").read_text()
    installed = _pip("install", "--no-deps", "--no-build-isolation", "-c", str(REPO / "constraints.txt"),
                     "-e", str(project))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    try:
        tests = subprocess.run([sys.executable, "-m", "pytest", str(project / "tests"), "-v", "-p",
                                "no:cacheprovider"], cwd=project, capture_output=True, text=True,
                               timeout=300)
        assert tests.returncode == 0, tests.stdout + tests.stderr
        # The entry-point test ran, and one test per kit check for the plugin's model type.
        assert "test_distribution_is_in_the_plugin_listing PASSED" in tests.stdout, tests.stdout
        for name in CHECKS:
            assert f"test_ainode_checks[{MODEL_TYPE}-{name}] PASSED" in tests.stdout, tests.stdout

        node = RunningNode(make_home(tmp_path))
        try:
            with AINodeClient("127.0.0.1", node.port) as client:
                models = client.models()
            row = models[models["ModelId"] == MODEL_TYPE]
            assert len(row) == 1, models.to_string()
            assert row.iloc[0]["ModelType"] == MODEL_TYPE
            assert row.iloc[0]["Category"].lower() == "builtin"
        finally:
            node.stop()
    finally:
        removed = _pip("uninstall", "-y", f"ainode-plugin-{PLUGIN}")
        assert removed.returncode == 0, removed.stdout + removed.stderr
