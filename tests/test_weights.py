"""Fetching built-in weights: progress shows in the model's reason, the files appear only when complete,
and an unreachable hub leaves the model inactive with the reason (the hub itself is replaced by a fake)."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import huggingface_hub
import numpy as np
import pytest

from ainode_core.models.catalog import ModelCatalog
from ainode_core.models.record import State
from ainode_core.models.weights import fetch_builtin
from ainode_core.plugins import PluginManager
from tests.conftest import closed_port

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


# --- offline: a quick verdict, one line per model, and weights copied in by hand are picked up -----------


def _state(port: int, model_id: str) -> tuple[str, str]:
    from ainode_core.client import AINodeClient

    with AINodeClient("127.0.0.1", port) as client:
        row = client.models(model_id).iloc[0]
    return str(row["State"]), str(row["Reason"])


@pytest.mark.parametrize("offline_env", [
    {"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": "http://127.0.0.1:{closed}"},  # no network
    {"HF_HUB_OFFLINE": "1"},  # the operator said so
], ids=["hub-unreachable", "HF_HUB_OFFLINE"])
def test_offline_start_says_once_per_model_where_weights_go_and_picks_them_up_without_restart(tmp_path,
                                                                                             offline_env):
    from ainode_core.testing.node import RunningNode, make_home
    from tests.support.models import TIMER_FIXTURES

    env = {key: value.format(closed=closed_port()) for key, value in offline_env.items()}
    home = make_home(tmp_path, "ain_fetch_builtin_weights=true\n")
    node = RunningNode(home, env=env)
    try:
        folder = home / "data/ainode/models/builtin/timer_xl"
        deadline = time.monotonic() + 30  # the verdict comes from a background thread, after the start
        while "no restart needed" not in (reason := _state(node.port, "timer_xl")[1]):
            assert time.monotonic() < deadline, reason
            time.sleep(0.1)
        assert _state(node.port, "timer_xl")[0] == "inactive" and f"into {folder}" in reason, reason
        log = (home / "logs/log_ainode_all.log").read_text()
        for model_id in ("timer_xl", "sundial", "chronos2"):  # one line each, no retries, never activating
            assert log.count(f"built-in model {model_id} stays inactive") == 1, log
        assert "Retrying" not in log and "activating" not in log

        shutil.copytree(TIMER_FIXTURES / "timer_p24", folder, dirs_exist_ok=True)  # where the message says
        deadline = time.monotonic() + 60
        while _state(node.port, "timer_xl")[0] != "active":
            assert time.monotonic() < deadline, _state(node.port, "timer_xl")
            time.sleep(0.2)
        from ainode_core.client import AINodeClient

        with AINodeClient("127.0.0.1", node.port) as client:
            assert client.forecast("timer_xl", np.sin(np.arange(96) / 4), output_length=24).shape == (24, 1)
        assert _state(node.port, "sundial")[0] == "inactive"  # the others still wait for theirs
    finally:
        assert node.stop() == 0


def test_a_copy_still_in_progress_is_not_taken_for_weights(catalog):
    import threading

    from ainode_core.models.weights import watch_placed_weights

    stop = threading.Event()
    watch_placed_weights(catalog, stop, interval=1.0)
    try:
        folder = catalog.models_dir / "builtin/timer_xl"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_text("{}")
        with open(folder / "model.safetensors", "wb") as handle:  # grows for 3 s, like a slow copy
            for _ in range(60):
                handle.write(b"\0" * 1024)
                handle.flush()
                assert catalog.get("timer_xl").state is State.INACTIVE
                time.sleep(0.05)
        deadline = time.monotonic() + 10
        while catalog.get("timer_xl").state is not State.ACTIVE:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert catalog.get("timer_xl").reason == ""
    finally:
        stop.set()
