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
from typing import Callable

from ainode_core.models.catalog import ModelCatalog
from ainode_core.models.record import Category, State
from ainode_core.records import BuiltinModel

log = logging.getLogger(__name__)


def _expected_bytes(repo_id: str, names: list[str]) -> int:
    """Total size of the files on the hub (0 when unknown: progress then shows bytes only)."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    total = 0
    for name in names:
        try:
            total += get_hf_file_metadata(hf_hub_url(repo_id, name)).size or 0
        except Exception:
            return 0
    return total


def _report_progress(staging: Path, total: int, report: Callable[[str], None], done: threading.Event) -> None:
    """Every second: bytes on disk in the staging folder (partial downloads included) as a reason text."""
    while not done.wait(1.0):
        size = sum(f.stat().st_size for f in staging.rglob("*") if f.is_file())
        mb = size / 2**20
        report(f"{mb:.0f} MB of {total / 2**20:.0f} MB ({100 * size / total:.0f}%)" if total else f"{mb:.0f} MB")


def _download(builtin: BuiltinModel, destination: Path, report: Callable[[str], None] = lambda text: None) -> None:
    from huggingface_hub import hf_hub_download

    destination.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{builtin.model_id}.", dir=destination.parent))
    missing = [name for name in builtin.weight_files if not (destination / name).is_file()]
    done = threading.Event()
    threading.Thread(target=_report_progress, daemon=True, name=f"progress-{builtin.model_id}",
                     args=(staging, _expected_bytes(builtin.hf_repo_id, missing), report, done)).start()
    try:
        for name in missing:
            log.info("fetching %s/%s for built-in model %s", builtin.hf_repo_id, name, builtin.model_id)
            hf_hub_download(repo_id=builtin.hf_repo_id, filename=name, local_dir=staging)
        for name in builtin.weight_files:
            if (staging / name).is_file():
                os.replace(staging / name, destination / name)
    finally:
        done.set()
        shutil.rmtree(staging, ignore_errors=True)


def fetch_builtin(catalog: ModelCatalog, model_id: str) -> None:
    builtin = catalog.builtin(model_id)
    if builtin is None or not builtin.needs_weights or not catalog.missing_weight_files(builtin):
        return
    folder = catalog.models_dir / Category.BUILTIN.value / model_id
    previous_reason = catalog.get(model_id).reason
    fetching = f"fetching weights from hf://{builtin.hf_repo_id}"
    catalog.update(model_id, state=State.ACTIVATING, reason=fetching)
    try:
        _download(builtin, folder, lambda progress: catalog.update(model_id, reason=f"{fetching}: {progress}"))
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
