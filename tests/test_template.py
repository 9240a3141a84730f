"""The cookiecutter template renders a plugin that installs, passes its own tests and shows up in a node."""
from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

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
            _run_the_readmes_sql(project, node.port, tmp_path)
        finally:
            node.stop()
    finally:
        removed = _pip("uninstall", "-y", f"ainode-plugin-{PLUGIN}")
        assert removed.returncode == 0, removed.stdout + removed.stderr


def _run_the_readmes_sql(project: Path, port: int, tmp_path: Path) -> None:
    """Every `ainode sql` line the rendered README suggests runs as written, on the data it describes."""
    commands = [shlex.split(line.strip()) for line in (project / "README.md").read_text().splitlines()
                if line.strip().startswith("ainode sql")]
    assert len(commands) >= 2, "the README suggests no `ainode sql` to try"
    work = tmp_path / "try-it"
    work.mkdir()
    pd.DataFrame({"time": pd.date_range("2024-01-01", periods=48, freq="h"),
                  "s": np.arange(48, dtype=float)}).to_csv(work / "data.csv", index=False)
    for command in commands:
        ran = subprocess.run([str(Path(sys.executable).parent / "ainode"), *command[1:], "--port", str(port)],
                             cwd=work, capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0, f"{' '.join(command)}\n{ran.stdout}{ran.stderr}"
        assert MODEL_TYPE in ran.stdout or "output" in ran.stdout, ran.stdout
