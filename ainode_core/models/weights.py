"""Fetch missing built-in weights in the background (state activating → active, or inactive + reason).

Only ``config.json`` and ``model.safetensors`` are fetched (the model code ships with the plugin). Files are
downloaded into a temp folder next to ``builtin/<id>/`` and moved in when complete, so a crash never leaves
half a checkpoint that looks complete. A fetch never blocks serving: each runs on its own daemon thread.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path

from ainode_core.models.catalog import ModelCatalog
from ainode_core.models.record import Category, State
from ainode_core.records import BuiltinModel

log = logging.getLogger(__name__)


def _download(builtin: BuiltinModel, destination: Path) -> None:
    from huggingface_hub import hf_hub_download

    destination.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{builtin.model_id}.", dir=destination.parent))
    try:
        for name in builtin.weight_files:
            if (destination / name).is_file():
                continue
            log.info("fetching %s/%s for built-in model %s", builtin.hf_repo_id, name, builtin.model_id)
            hf_hub_download(repo_id=builtin.hf_repo_id, filename=name, local_dir=staging)
        for name in builtin.weight_files:
            if (staging / name).is_file():
                os.replace(staging / name, destination / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fetch_builtin(catalog: ModelCatalog, model_id: str) -> None:
    builtin = catalog.builtin(model_id)
    if builtin is None or not builtin.needs_weights or not catalog.missing_weight_files(builtin):
        return
    folder = catalog.models_dir / Category.BUILTIN.value / model_id
    previous_reason = catalog.get(model_id).reason
    catalog.update(model_id, state=State.ACTIVATING, reason=f"fetching weights from hf://{builtin.hf_repo_id}")
    try:
        _download(builtin, folder)
    except Exception as exc:  # offline is the normal case on many sites: explain, don't crash
        log.warning("could not fetch weights of %s (%s: %s); %s", model_id, type(exc).__name__, exc,
                    previous_reason)
        catalog.update(model_id, state=State.INACTIVE,
                       reason=f"fetch failed ({type(exc).__name__}); {previous_reason}")
        return
    catalog.update(model_id, state=State.ACTIVE, reason="")
    log.info("built-in model %s is active", model_id)


def fetch_missing_builtins(catalog: ModelCatalog) -> list[threading.Thread]:
    threads = []
    for record in catalog.list():
        builtin = catalog.builtin(record.model_id) if record.category is Category.BUILTIN else None
        if builtin is not None and builtin.needs_weights and record.state is State.INACTIVE:
            thread = threading.Thread(target=fetch_builtin, args=(catalog, record.model_id),
                                      name=f"fetch-{record.model_id}", daemon=True)
            thread.start()
            threads.append(thread)
    return threads
