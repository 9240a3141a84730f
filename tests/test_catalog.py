"""The model catalog: the built-in listing, persistence across restarts, atomic writes, recovery."""
from __future__ import annotations

import json
import os

import pytest

from ainode_core.errors import CreateModelError, ModelExistedError, ModelNotExistError
from ainode_core.models.catalog import ModelCatalog
from ainode_core.models.record import Category, ModelRecord, State, validate_model_id
from ainode_core.plugins import PluginManager
from tests.conftest import run_cli

# The contract's built-in catalogue (section 7): id → model_type.
BUILTINS = {
    "arima": "sktime", "holtwinters": "sktime", "exponential_smoothing": "sktime",
    "naive_forecaster": "sktime", "stl_forecaster": "sktime", "gaussian_hmm": "sktime",
    "gmm_hmm": "sktime", "stray": "sktime", "timer_xl": "timer", "sundial": "sundial", "chronos2": "t5",
    "toto": "toto", "moment": "moment", "moirai2": "moirai",
}


@pytest.fixture(scope="module")
def plugins() -> PluginManager:
    return PluginManager()


def user_record(model_id: str = "my_model", state: State = State.ACTIVE) -> ModelRecord:
    return ModelRecord(model_id=model_id, model_type="my_type", category=Category.USER_DEFINED, state=state,
                       source="file:///somewhere")


def test_ainode_models_lists_iotdbs_builtins(tmp_path):
    result = run_cli("models", "--json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    listed = {row["model_id"]: row for row in json.loads(result.stdout)}
    assert {model_id: row["model_type"] for model_id, row in listed.items()} == BUILTINS
    assert {row["category"] for row in listed.values()} == {"builtin"}
    for model_id in ("timer_xl", "sundial", "chronos2"):  # no weights here: inactive, and says why
        assert listed[model_id]["state"] == "inactive"
        assert "model.safetensors" in listed[model_id]["reason"]
    assert listed["arima"]["state"] == "active"

    table = run_cli("models", home=tmp_path)
    header, *rows = [line for line in table.stdout.splitlines() if line.startswith("|")]
    assert [c.strip() for c in header.split("|")[1:6]] == ["ModelId", "ModelType", "Task", "Category", "State"]
    assert {row.split("|")[1].strip() for row in rows} == set(BUILTINS)


def test_state_survives_a_restart(tmp_path, plugins):
    catalog = ModelCatalog(tmp_path, plugins)
    (tmp_path / "user_defined" / "my_model").mkdir(parents=True)
    catalog.add(user_record())
    catalog.update("my_model", reason="checked")
    reopened = ModelCatalog(tmp_path, plugins)
    record = reopened.get("my_model")
    assert (record.category, record.state, record.reason) == (Category.USER_DEFINED, State.ACTIVE, "checked")
    assert {r.model_id for r in reopened.list()} == set(BUILTINS) | {"my_model"}


def test_interrupted_write_leaves_the_old_state(tmp_path, plugins, monkeypatch):
    catalog = ModelCatalog(tmp_path, plugins)
    (tmp_path / "user_defined" / "my_model").mkdir(parents=True)
    catalog.add(user_record())
    before = (tmp_path / "catalog.json").read_bytes()

    real_fsync = os.fsync

    def crash_during_write(fd):  # the process "dies" after half of the new file is written
        raise SystemExit("killed mid-write")

    monkeypatch.setattr(os, "fsync", crash_during_write)
    with pytest.raises(SystemExit):
        catalog.add(user_record("second_model"))
    monkeypatch.setattr(os, "fsync", real_fsync)

    assert (tmp_path / "catalog.json").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    reopened = ModelCatalog(tmp_path, plugins)
    assert "my_model" in reopened and "second_model" not in reopened


def test_work_in_progress_is_resolved_on_restart(tmp_path, plugins):
    catalog = ModelCatalog(tmp_path, plugins)
    for model_id in ("training_one", "registering_one", "dropping_one"):
        (tmp_path / "user_defined" / model_id).mkdir(parents=True)
    catalog.add(user_record("training_one", State.TRAINING))
    catalog.add(user_record("registering_one", State.ACTIVATING))
    catalog.add(user_record("dropping_one", State.DROPPING))
    reopened = ModelCatalog(tmp_path, plugins)
    assert reopened.get("training_one").state is State.FAILED
    assert "training" in reopened.get("training_one").reason
    assert reopened.get("registering_one").state is State.FAILED
    assert "dropping_one" not in reopened
    assert not (tmp_path / "user_defined" / "dropping_one").exists()


def test_duplicate_and_unknown_ids(tmp_path, plugins):
    catalog = ModelCatalog(tmp_path, plugins)
    with pytest.raises(ModelExistedError):
        catalog.add(user_record("arima"))
    with pytest.raises(ModelNotExistError, match="SHOW MODELS"):
        catalog.get("nope")


@pytest.mark.parametrize("model_id", ["ab", "Model_1", "a" * 64])
def test_valid_model_ids(model_id):
    assert validate_model_id(model_id) == model_id


@pytest.mark.parametrize("model_id", ["a", "1model", "_model", "a" * 65, "bad-name", "bad name", ""])
def test_invalid_model_ids(model_id):
    with pytest.raises(CreateModelError, match="letters, digits"):
        validate_model_id(model_id)


def test_unreadable_catalog_is_kept_aside(tmp_path, plugins):
    (tmp_path / "catalog.json").write_text("{not json")
    catalog = ModelCatalog(tmp_path, plugins)
    assert "arima" in catalog
    assert (tmp_path / "catalog.json.corrupt").read_text() == "{not json"
