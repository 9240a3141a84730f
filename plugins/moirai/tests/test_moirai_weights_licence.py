"""moirai2's weights are CC BY-NC 4.0: SHOW MODELS says so, and the node downloads them (with huggingface_hub)
only when the operator opts in with ``ain_fetch_noncommercial_weights=true``. The hub is replaced by a fake that
hands out the tiny checkpoint, so no test downloads anything."""
from __future__ import annotations

import shutil
from pathlib import Path

import huggingface_hub
import pytest

from ainode_core.config import load_settings
from ainode_core.models.catalog import ModelCatalog
from ainode_core.models.record import Category, State
from ainode_core.models.weights import fetch_missing_builtins


@pytest.fixture
def downloads(monkeypatch, checkpoint: Path) -> list[tuple[str, str]]:
    """Every ``hf_hub_download`` call (repo, file); each one copies the tiny checkpoint's file."""
    calls: list[tuple[str, str]] = []

    def download(repo_id: str, filename: str, local_dir: Path) -> str:
        calls.append((repo_id, filename))
        return str(shutil.copy(checkpoint / filename, Path(local_dir) / filename))

    def no_metadata(url: str):
        raise ConnectionError("the fake hub has no metadata")  # progress then shows bytes only

    monkeypatch.setattr("ainode_core.models.weights.hub_unreachable", lambda: None)  # "online"
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    monkeypatch.setattr(huggingface_hub, "get_hf_file_metadata", no_metadata)
    return calls


def test_the_opt_in_key_is_off_by_default(tmp_path: Path) -> None:
    assert load_settings(tmp_path).ain_fetch_noncommercial_weights is False
    assert load_settings(tmp_path, {"ain_fetch_noncommercial_weights": "true"}).ain_fetch_noncommercial_weights


def test_without_opt_in_nothing_is_downloaded_and_the_reason_says_why(manager, tmp_path, downloads) -> None:
    catalog = ModelCatalog(tmp_path / "models", manager)
    assert fetch_missing_builtins(catalog) == []
    assert downloads == []
    record = catalog.get("moirai2")
    assert (record.category, record.state) == (Category.BUILTIN, State.INACTIVE)
    folder = tmp_path / "models" / "builtin" / "moirai2"
    assert "weights licensed CC BY-NC 4.0: non-commercial use only" in record.reason
    assert "only if you opt in with ain_fetch_noncommercial_weights=true" in record.reason
    assert f"copy config.json and model.safetensors into {folder}" in record.reason


def test_with_opt_in_the_weights_are_fetched_and_the_licence_stays_in_the_reason(manager, tmp_path,
                                                                                 downloads) -> None:
    catalog = ModelCatalog(tmp_path / "models", manager)
    for thread in fetch_missing_builtins(catalog, noncommercial=True):
        thread.join(60)
    assert sorted(downloads) == [("Salesforce/moirai-2.0-R-small", "config.json"),
                                 ("Salesforce/moirai-2.0-R-small", "model.safetensors")]
    record = catalog.get("moirai2")
    assert record.state is State.ACTIVE
    assert record.reason == "weights licensed CC BY-NC 4.0: non-commercial use only"
    assert ModelCatalog(tmp_path / "models", manager).get("moirai2").state is State.ACTIVE  # after a restart
