"""iotdb-ainode.properties: every key, defaults, relative paths, clear errors."""
from __future__ import annotations

import logging
import os
import re
import subprocess
from pathlib import Path

import pytest

from ainode_core.config import load_settings, setting_keys
from ainode_core.errors import ConfigError
from tests.conftest import run_cli

REPO = Path(__file__).resolve().parents[1]


def write_config(home: Path, text: str) -> Path:
    (home / "conf").mkdir(parents=True, exist_ok=True)
    path = home / "conf" / "iotdb-ainode.properties"
    path.write_text(text)
    return path


def test_defaults_match_the_contract(tmp_path):
    settings = load_settings(tmp_path)
    assert settings.cluster_name == "defaultCluster"
    assert settings.ain_seed_config_node == "127.0.0.1:10710"
    assert settings.rpc_endpoint == ("127.0.0.1", 10810)
    assert settings.ain_thrift_compression_enabled is False
    assert settings.ain_inference_batch_interval_in_ms == 15
    assert settings.ain_inference_max_output_length == 2880
    assert settings.ain_inference_memory_usage_ratio == 0.4
    assert settings.ain_inference_extra_memory_ratio == 1.2
    assert settings.ain_cluster_ingress_port == 6667
    assert settings.ain_models_dir == tmp_path.resolve() / "data/ainode/models"


def test_values_are_parsed_and_relative_paths_resolve_against_home(tmp_path):
    write_config(tmp_path, "ain_rpc_port = 12345\nain_thrift_compression_enabled=1\n"
                           "ain_models_dir=custom/models\nain_inference_model_mem_usage_map=timer_xl:1000\n")
    settings = load_settings(tmp_path)
    assert settings.ain_rpc_port == 12345
    assert settings.ain_thrift_compression_enabled is True
    assert settings.ain_models_dir == tmp_path.resolve() / "custom/models"
    assert settings.ain_inference_model_mem_usage_map == {"timer_xl": 1000}


def test_home_comes_from_the_environment(tmp_path, monkeypatch):
    write_config(tmp_path, "cluster_name=plant7\n")
    monkeypatch.setenv("IOTDB_AINODE_HOME", str(tmp_path))
    assert load_settings().cluster_name == "plant7"


@pytest.mark.parametrize("line, key", [
    ("ain_rpc_port=abc", "ain_rpc_port"),
    ("ain_rpc_port=70000", "ain_rpc_port"),
    ("ain_inference_memory_usage_ratio=1.5", "ain_inference_memory_usage_ratio"),
    ("ain_seed_config_node=nohostport", "ain_seed_config_node"),
    ("ain_thrift_compression_enabled=maybe", "ain_thrift_compression_enabled"),
])
def test_bad_value_names_the_key_and_the_file(tmp_path, line, key):
    path = write_config(tmp_path, line + "\n")
    with pytest.raises(ConfigError) as error:
        load_settings(tmp_path)
    assert key in error.value.message and str(path) in error.value.message


def test_unknown_key_is_a_warning(tmp_path, caplog):
    write_config(tmp_path, "ain_no_such_key=1\n")
    with caplog.at_level(logging.WARNING):
        load_settings(tmp_path)
    assert "ain_no_such_key" in caplog.text


def test_a_misspelled_key_is_a_warning_naming_the_file_and_the_key_meant(tmp_path, caplog):
    path = write_config(tmp_path, "ain_rpc_prot=12345\n")
    with caplog.at_level(logging.WARNING):
        settings = load_settings(tmp_path)
    assert f"{path}: unknown key 'ain_rpc_prot' ignored. Did you mean 'ain_rpc_port'?" in caplog.text
    assert settings.ain_rpc_port == 10810


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_home_variable_is_an_error_not_the_defaults(tmp_path, monkeypatch, value):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IOTDB_AINODE_HOME", value)
    with pytest.raises(ConfigError, match="IOTDB_AINODE_HOME is set but empty"):
        load_settings()
    result = run_cli("models", env={"IOTDB_AINODE_HOME": value})
    assert result.returncode == 1 and "IOTDB_AINODE_HOME is set but empty" in result.stderr
    script = subprocess.run([str(REPO / "sbin/start-ainode.sh"), "--standalone"], capture_output=True, text=True,
                            env=dict(os.environ, IOTDB_AINODE_HOME=value), timeout=60)
    assert script.returncode == 1 and "IOTDB_AINODE_HOME is set but empty" in script.stderr
    assert not (tmp_path / "data").exists()


def test_shipped_config_file_documents_every_key():
    text = (REPO / "conf" / "iotdb-ainode.properties").read_text()
    # A key the user has set (uncommented, as the README says to) still counts as documented ...
    documented = set(re.findall(r"^(?:# )?(\w+)=", text, re.M))
    assert documented == set(setting_keys())
    # ... and the commented ones, uncommented, parse to the defaults.
    values = dict(line[2:].split("=", 1) for line in text.splitlines() if re.match(r"^# \w+=", line))
    from ainode_core.config import parse_properties

    assert parse_properties(values, home=Path("/x"), source=None) == load_settings(Path("/x"))
