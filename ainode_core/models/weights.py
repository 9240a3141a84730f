"""Fetch missing built-in weights in the background (state activating → active, or inactive + reason).

Only ``config.json`` and ``model.safetensors`` are fetched (the model code ships with the plugin). Files are
downloaded into a temp folder next to ``builtin/<id>/`` and moved in when complete, so a crash never leaves
half a checkpoint that looks complete. A fetch never blocks serving: each runs on its own daemon thread.

Offline is normal on many sites: one quick probe of the hub (or ``HF_HUB_OFFLINE``) decides, and each model
then gets one log line saying where its weights go, instead of every download retrying for a minute. Weights
copied there later are picked up by :func:`watch_placed_weights` within seconds, without a restart.
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

HUB_PROBE_TIMEOUT = 3.0  # seconds: a hub that does not answer within this is taken as unreachable
WATCH_INTERVAL = 2.0  # seconds between looks at the folders of built-ins still missing weights


def hub_unreachable() -> str | None:
    """Why the hub cannot be used now (``HF_HUB_OFFLINE``, or no answer to one quick request), else None."""
    from huggingface_hub import constants
    from huggingface_hub.utils import get_session

    if constants.HF_HUB_OFFLINE:
        return "HF_HUB_OFFLINE is set"
    try:
        get_session().head(constants.ENDPOINT, timeout=HUB_PROBE_TIMEOUT)  # any HTTP answer will do
    except Exception as exc:  # requests' connection errors, timeouts, proxies, TLS: all mean "offline" here
        return f"{constants.ENDPOINT} does not answer ({type(exc).__name__})"
    return None


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
    catalog.update(model_id, state=State.ACTIVE, reason=builtin.licence_note)
    log.info("built-in model %s is active", model_id)


def fetch_missing_builtins(catalog: ModelCatalog, noncommercial: bool = False) -> list[threading.Thread]:
    """Start fetching every built-in whose weights are missing; weights under a non-commercial licence only
    when ``noncommercial`` (``ain_fetch_noncommercial_weights``): otherwise their reason says how to opt in."""
    waiting = [record.model_id for record in catalog.list()
               if record.category is Category.BUILTIN and record.state is State.INACTIVE
               and (builtin := catalog.builtin(record.model_id)) is not None and builtin.needs_weights
               and (noncommercial or not builtin.noncommercial_licence)]
    if not waiting:
        return []
    # The probe can take HUB_PROBE_TIMEOUT where packets are dropped: never on the start's path.
    thread = threading.Thread(target=_fetch_all, args=(catalog, waiting), name="fetch-builtins", daemon=True)
    thread.start()
    return [thread]


def _fetch_all(catalog: ModelCatalog, waiting: list[str]) -> None:
    offline = hub_unreachable()
    if offline is not None:
        for model_id in waiting:
            _explain_offline(catalog, model_id, offline)
        return
    threads = [threading.Thread(target=fetch_builtin, args=(catalog, model_id), name=f"fetch-{model_id}",
                                daemon=True) for model_id in waiting]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _explain_offline(catalog: ModelCatalog, model_id: str, why: str) -> None:
    builtin = catalog.builtin(model_id)
    missing = catalog.missing_weight_files(builtin)
    folder = catalog.models_dir / Category.BUILTIN.value / model_id
    where = (f"copy {' and '.join(missing)} from https://huggingface.co/{builtin.hf_repo_id} into {folder}; "
             f"the model turns active within seconds, no restart needed")
    log.warning("built-in model %s stays inactive, the hub is unreachable (%s): %s", model_id, why, where)
    licence = f"; {builtin.licence_note}" if builtin.licence_note else ""
    catalog.update(model_id, reason=f"weights missing, hub unreachable ({why}): {where}{licence}")


def watch_placed_weights(catalog: ModelCatalog, stop: threading.Event,
                         interval: float = WATCH_INTERVAL) -> threading.Thread:
    """Every ``interval``: a built-in model that was missing weights and now has them all becomes active.

    A file counts once its size and time stayed the same for one interval, so a copy in progress is not
    taken for weights. Only models seen missing weights are watched: an inactive model for another reason
    is left alone.
    """
    pending: dict[str, tuple | None] = {}  # model id → the files' (size, mtime) at the last look
    _look_at_placed_weights(catalog, pending)

    def watch() -> None:
        while not stop.wait(interval):
            try:
                _look_at_placed_weights(catalog, pending)
            except Exception:  # a vanished folder mid-look, say: look again next time
                log.exception("looking for placed built-in weights")

    thread = threading.Thread(target=watch, name="weights-watch", daemon=True)
    thread.start()
    return thread


def _look_at_placed_weights(catalog: ModelCatalog, pending: dict[str, tuple | None]) -> None:
    for record in catalog.list():
        builtin = catalog.builtin(record.model_id) if record.category is Category.BUILTIN else None
        if builtin is None or not builtin.needs_weights:
            continue
        if catalog.missing_weight_files(builtin):
            pending.setdefault(record.model_id, None)
            continue
        if record.model_id not in pending:
            continue
        if record.state is not State.INACTIVE:  # a fetch brought them (and activated the model)
            del pending[record.model_id]
            continue
        folder = catalog.models_dir / Category.BUILTIN.value / record.model_id
        files = [(folder / name).stat() for name in builtin.weight_files]
        signature = tuple((info.st_size, info.st_mtime_ns) for info in files)
        if pending[record.model_id] != signature:  # just arrived, or still being copied: look again
            pending[record.model_id] = signature
            continue
        del pending[record.model_id]
        catalog.update(record.model_id, state=State.ACTIVE, reason=builtin.licence_note)
        log.info("weights of built-in model %s found in %s: it is active", record.model_id, folder)
