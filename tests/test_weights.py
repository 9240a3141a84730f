"""Fetching built-in weights: progress shows in the model's reason, the files appear only when complete,
and an unreachable hub leaves the model inactive with the reason (the hub itself is replaced by a fake)."""
from __future__ import annotations

import time
from pathlib import Path

import huggingface_hub
import pytest

from ainode_core.models.catalog import ModelCatalog
from ainode_core.models.record import State
from ainode_core.models.weights import fetch_builtin
from ainode_core.plugins import PluginManager

CHUNK = 2**20


class FakeHub:
    """Writes each file in 1 MB steps, 0.4 s apart, where hf_hub_download would (local_dir)."""

    def __init__(self, sizes: dict[str, int], fail: bool = False) -> None:
        self.sizes, self.fail = sizes, fail

    def metadata(self, url: str):
        return type("Meta", (), {"size": self.sizes[url.rsplit("/", 1)[-1]]})()

    def download(self, repo_id: str, filename: str, local_dir: Path) -> str:
        if self.fail:
            raise ConnectionError("hub unreachable")
        target = Path(local_dir) / filename
        with open(target, "wb") as handle:
            for _ in range(self.sizes[filename] // CHUNK):
                handle.write(b"\0" * CHUNK)
                handle.flush()
                time.sleep(0.4)
        return str(target)


@pytest.fixture
def catalog(tmp_path) -> ModelCatalog:
    return ModelCatalog(tmp_path / "models", PluginManager())


def _use(monkeypatch, hub: FakeHub) -> None:
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", hub.download)
    monkeypatch.setattr(huggingface_hub, "get_hf_file_metadata", hub.metadata)
    monkeypatch.setattr(huggingface_hub, "hf_hub_url", lambda repo, name: f"https://hub/{repo}/{name}")


def test_progress_is_reported_and_the_model_becomes_active(catalog, monkeypatch):
    _use(monkeypatch, FakeHub({"config.json": CHUNK, "model.safetensors": 4 * CHUNK}))
    reasons: list[str] = []
    catalog.subscribe(lambda record: reasons.append(record.reason) if record.model_id == "timer_xl" else None)
    assert catalog.get("timer_xl").state is State.INACTIVE

    fetch_builtin(catalog, "timer_xl")

    assert catalog.get("timer_xl").state is State.ACTIVE
    folder = catalog.models_dir / "builtin/timer_xl"
    assert (folder / "model.safetensors").stat().st_size == 4 * CHUNK
    progress = [r for r in reasons if "MB of 5 MB" in r]
    assert progress, reasons
    percents = [int(r.rsplit("(", 1)[1].rstrip("%)")) for r in progress]
    assert percents == sorted(percents) and 0 < percents[-1] <= 100
    assert not list(folder.parent.glob(".timer_xl.*"))  # no staging left


def test_an_unreachable_hub_leaves_the_model_inactive_with_the_reason(catalog, monkeypatch):
    _use(monkeypatch, FakeHub({"config.json": CHUNK, "model.safetensors": CHUNK}, fail=True))
    fetch_builtin(catalog, "sundial")
    record = catalog.get("sundial")
    assert record.state is State.INACTIVE
    assert "fetch failed (ConnectionError)" in record.reason and "model.safetensors" in record.reason
    assert not (catalog.models_dir / "builtin/sundial/model.safetensors").exists()
