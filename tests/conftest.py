"""Shared fixtures: throw-away plugin distributions, a temp node home, a running node."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
AINODE = Path(sys.executable).parent / "ainode"


# Variables of the user's shell that would point the tests at the user's node, home or plugin choice.
USER_ENV = ("AINODE_HOST", "AINODE_PORT", "AINODE_LOAD_PLUGINS", "AINODE_DISABLE_PLUGINS", "AINODE_PLUGIN_OVERRIDES")


def _repository_distributions() -> set[str]:
    import tomllib

    from ainode_core.records import normalise_name

    return {normalise_name(tomllib.loads(path.read_text())["project"]["name"])
            for path in REPO.glob("plugins/*/pyproject.toml")}


def _other_installed_plugins() -> list[str]:
    """Entry points of ``ainode.plugins`` that this repository does not ship (a plugin the user installed
    into .venv following the README)."""
    from importlib import metadata

    from ainode_core.plugins import ENTRY_POINT_GROUP
    from ainode_core.records import normalise_name

    ours = _repository_distributions()
    return sorted(ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)
                  if ep.dist is None or normalise_name(ep.dist.metadata["Name"]) not in ours)


@pytest.fixture(scope="session", autouse=True)
def _independent_of_the_users_setup(tmp_path_factory):
    """`make test` must pass after the README's own steps: a node home whose conf file the user edited (the
    repository root is the default home) and plugins the user installed into .venv are not the tests' business.
    Every test gets an empty default home and sees only the repository's plugins (plus those it makes)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in USER_ENV:
            patch.delenv(name, raising=False)
        patch.setenv("IOTDB_AINODE_HOME", str(tmp_path_factory.mktemp("default-home")))
        if others := _other_installed_plugins():
            patch.setenv("AINODE_DISABLE_PLUGINS", ",".join(others))
        # A node serving an sktime model starts that plugin's worker pool (two processes importing sktime,
        # seconds of CPU) when it builds the instance; dozens of short-lived test nodes would spend minutes on
        # pools they never need. The pool has its own tests (plugins/builtin_sktime/tests).
        patch.setenv("AINODE_SKTIME_PARALLEL", "never")
        yield


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """The hub is unreachable here: fail fast instead of waiting on timeouts."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def client(node):
    """A Python client connected to the module's running ``node`` fixture."""
    from ainode_core.client import AINodeClient

    with AINodeClient("127.0.0.1", node.port) as ainode:
        yield ainode


@pytest.fixture
def make_dist(tmp_path, monkeypatch):
    """Build an installed-looking distribution (``.dist-info`` + module) on a temp ``sys.path`` entry.

    ``make_dist("ainode-plugin-foo", "ainode_plugin_foo", code)`` returns the site folder; it is put on
    ``sys.path`` for in-process use and on ``PYTHONPATH`` for subprocesses.
    """
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))

    def make(dist_name: str, module: str, code: str, version: str = "1.0.0", entry_name: str | None = None) -> Path:
        (site / f"{module}.py").write_text(textwrap.dedent(code))
        info = site / f"{dist_name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[ainode.plugins]\n{entry_name or module} = {module}\n")
        return site

    return make


MODEL_TYPE_PLUGIN = '''
from ainode_core import hookimpl, ModelTypeSpec, BuiltinModel
from ainode_core.pipelines import ForecastPipeline

class RepeatLastPipeline(ForecastPipeline):
    def forecast(self, inputs, **kw):
        import numpy as np
        return [np.repeat(item["targets"][:, -1:], kw["output_length"], axis=1) for item in inputs]

@hookimpl
def ainode_register_model_types():
    return [ModelTypeSpec(model_type="{model_type}", pipeline_cls=RepeatLastPipeline,
                          builtin_models=(BuiltinModel("{model_id}", description="repeats the last value"),))]
'''


def plugin_code(model_type: str, model_id: str) -> str:
    return MODEL_TYPE_PLUGIN.replace("{model_type}", model_type).replace("{model_id}", model_id)


def run_cli(*args: str, env: dict | None = None, home: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, **(env or {}))
    if home is not None:
        full_env["IOTDB_AINODE_HOME"] = str(home)
    return subprocess.run([str(AINODE), *args], capture_output=True, text=True, env=full_env, timeout=timeout)


def closed_port() -> int:
    """A local port where nothing listens (bound, then released): a node that is not there."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
