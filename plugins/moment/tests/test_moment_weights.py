"""MOMENT's weights come from AutonLab/MOMENT-1-large through huggingface_hub when online: the node asks for
exactly config.json and model.safetensors, and the model turns active (the hub is replaced by a fake that
hands out the tiny official-format checkpoint)."""
from __future__ import annotations

import shutil
from pathlib import Path

import huggingface_hub
import numpy as np

from ainode_core.models.catalog import ModelCatalog
from ainode_core.models.record import State
from ainode_core.models.weights import fetch_builtin


def test_weights_are_fetched_from_the_official_repository(manager, checkpoint, build, tmp_path, monkeypatch):
    asked: list[tuple[str, str]] = []

    def download(repo_id: str, filename: str, local_dir: Path) -> str:
        asked.append((repo_id, filename))
        return shutil.copy(checkpoint / filename, Path(local_dir) / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    monkeypatch.setattr(huggingface_hub, "get_hf_file_metadata", lambda url: type("Meta", (), {"size": 0})())
    catalog = ModelCatalog(tmp_path / "models", manager)
    assert catalog.get("moment").state is State.INACTIVE

    fetch_builtin(catalog, "moment")

    assert sorted(asked) == [("AutonLab/MOMENT-1-large", "config.json"),
                             ("AutonLab/MOMENT-1-large", "model.safetensors")]
    assert catalog.get("moment").state is State.ACTIVE
    pipeline = build(catalog.models_dir / "builtin/moment")
    assert pipeline.run([{"targets": np.sin(np.arange(64) / 3)}])[0].shape == (1, 64)
