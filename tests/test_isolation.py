"""`make test` and read-only commands do not depend on, or change, the user's own setup.

The README's steps edit the home's conf file and may install a plugin into .venv; the tests must pass anyway
(tests/conftest.py gives them an empty default home and only the repository's plugins). A listing run in some
other folder must leave that folder as it was.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ainode_core.testing.node import make_site
from tests.conftest import AINODE, REPO, closed_port

USERS_PLUGIN = '''
from ainode_core import hookimpl, ModelTypeSpec, BuiltinModel
from ainode_core.pipelines import ForecastPipeline

class UsersPipeline(ForecastPipeline):
    def forecast(self, inputs, **kw):
        return [item["targets"][:, -1:].repeat(kw["output_length"], axis=1) for item in inputs]

@hookimpl
def ainode_register_model_types():
    return [ModelTypeSpec(model_type="users_model", pipeline_cls=UsersPipeline,
                          builtin_models=(BuiltinModel("users_model"),))]
'''


def test_the_defaults_the_tests_see_are_the_shipped_ones():
    """Run by the test below in a session whose environment is the user's; trivially true in a clean one."""
    from ainode_core.config import load_settings
    from ainode_core.plugins import get_plugin_manager

    settings = load_settings()
    assert settings.source_file is None and settings.ain_rpc_port == 10810
    assert "AINODE_PORT" not in os.environ
    assert "users_model" not in get_plugin_manager().registry("builtin_models")


def test_the_suite_ignores_the_users_conf_edits_and_installed_plugins(tmp_path):
    home = tmp_path / "users-home"
    (home / "conf").mkdir(parents=True)
    (home / "conf/iotdb-ainode.properties").write_text("ain_rpc_port=6668\ncluster_name=plant7\n")
    site = make_site(tmp_path, {"ainode_plugin_users": USERS_PLUGIN})
    env = dict(os.environ, IOTDB_AINODE_HOME=str(home), AINODE_PORT="6668",
               PYTHONPATH=os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
    test = f"{Path(__file__).relative_to(REPO)}::test_the_defaults_the_tests_see_are_the_shipped_ones"
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_listing_models_in_another_folder_leaves_it_untouched(tmp_path):
    port = closed_port()  # no node answers: the local listing is used
    env = {key: value for key, value in os.environ.items() if key != "IOTDB_AINODE_HOME"}  # home: the cwd
    result = subprocess.run([str(AINODE), "models", "--port", str(port)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "naive_forecaster" in result.stdout and "No node has run with home" in result.stderr
    assert list(tmp_path.iterdir()) == []
