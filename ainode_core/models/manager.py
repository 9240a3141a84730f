"""CREATE MODEL / DROP MODEL / CREATE MODEL ... FROM MODEL: the catalog's state changes.

Registration is validated at once (id, duplicates, URI, model_type clashes: the errors a user fixes), then
the folder is copied into a temp folder next to the final one, its code imported and checked, renamed into
place and registered as a plugin: state ``active``. A local folder (``file://``) is registered within the call,
as IoTDB's DataNode expects (its test reads SHOW MODELS right after CREATE MODEL and accepts only ``active``):
a failure answers its status and leaves nothing behind. Only a registration that outlasts
``ain_model_registration_wait_in_ms`` (or a remote download) goes on in the background, ``activating`` until it
ends ``active`` or ``failed`` with its reason. A crash mid-way is resolved on the next start. The DataNode sends
a call again when it timed out, so registering the same id from the same URI twice is not an error.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from ainode_core.config import Settings
from ainode_core.errors import (
    AINodeError,
    CreateModelError,
    DropBuiltinModelError,
    DropModelError,
    InvalidURIError,
    ModelExistedError,
    ModelNotExistError,
)
from ainode_core.inference.engine import InferenceEngine
from ainode_core.models import folders, storages
from ainode_core.models.atomic import remove_stale_temp_files
from ainode_core.models.catalog import ModelCatalog
from ainode_core.models.record import Category, ModelRecord, State, parse_uri_scheme, validate_model_id
from ainode_core.plugins import PluginManager
from ainode_core.records import ModelTypeSpec, normalise_name

log = logging.getLogger(__name__)


def transformers_config_names() -> set[str]:
    try:
        from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES
    except ImportError:
        return set()
    return {normalise_name(name) for name in CONFIG_MAPPING_NAMES}


class ModelManager:
    def __init__(self, settings: Settings, catalog: ModelCatalog, plugins: PluginManager,
                 engine: InferenceEngine) -> None:
        self.settings = settings
        self.catalog = catalog
        self.plugins = plugins
        self.engine = engine
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.tasks: dict[str, Any] = {}  # model id → its fine-tuning TrainingTask
        self._remove_staging_leftovers()
        self._register_existing_folders()

    def _remove_staging_leftovers(self) -> None:
        """What a previous process killed mid-way left: temp folders of copies it did not finish (their records
        are already failed) and temp files of atomic writes (catalog.json, a model's training.json)."""
        removed = remove_stale_temp_files(self.catalog.models_dir)
        for category in Category:
            folder = self.catalog.models_dir / category.value
            if folder.is_dir():
                for leftover in folder.glob(".*"):
                    if leftover.is_dir():
                        shutil.rmtree(leftover, ignore_errors=True)
                        removed.append(leftover)
                for model_dir in folder.iterdir():
                    if model_dir.is_dir() and not model_dir.name.startswith("."):
                        removed += remove_stale_temp_files(model_dir)
        if removed:
            log.info("removed %d leftovers of an interrupted run: %s", len(removed),
                     ", ".join(str(path) for path in removed))

    def _register_existing_folders(self) -> None:
        for record in self.catalog.list():
            if record.category is Category.USER_DEFINED and record.state is State.ACTIVE:
                try:
                    self._add_folder_plugin(record.model_id, self.catalog.model_dir(record))
                except AINodeError as exc:
                    self.catalog.update(record.model_id, state=State.FAILED, reason=exc.message)

    def _add_folder_plugin(self, model_id: str, folder: Path) -> None:
        self._add_spec_plugin(model_id, folder, self._load_spec(folder))

    def _load_spec(self, folder: Path) -> ModelTypeSpec:
        """Import the folder's code: never under ``self._lock`` (a slow import would hold up every other
        registration), and within ``ain_model_import_timeout_in_ms``."""
        return folders.load_folder_spec_within(folder, self.settings.ain_model_import_timeout_in_ms / 1000)

    def _add_spec_plugin(self, model_id: str, folder: Path, spec: ModelTypeSpec) -> None:
        info = self.plugins.add_plugin(folders.FolderPlugin(spec), folders.plugin_name(model_id),
                                       source=f"model folder {folder}")
        if info.errors:
            self.plugins.remove_plugin(info.name)
            raise CreateModelError(info.errors[-1])

    # --- CREATE MODEL ... USING URI ------------------------------------------------------------------

    def _check_uri(self, uri: str) -> tuple[str, str]:
        scheme, rest = parse_uri_scheme(uri)
        if scheme not in self.plugins.registry("model_storages"):
            known = ", ".join(f"{s}://" for s in sorted(self.plugins.registry("model_storages")))
            raise InvalidURIError(f"Invalid URI {uri!r}: unknown scheme '{scheme}'; use one of {known}")
        if scheme == "file":
            path = Path(rest).resolve()
            roots = [Path(r).resolve() for r in self.settings.ain_model_uri_allowed_roots]
            if roots and not any(path == root or root in path.parents for root in roots):
                raise InvalidURIError(
                    f"Invalid URI {uri!r}: {path} is outside the allowed roots "
                    f"({', '.join(map(str, roots))}); see ain_model_uri_allowed_roots")
            if not path.is_dir():
                raise InvalidURIError(f"Invalid URI {uri!r}: {path} is not a folder on the AINode's machine")
            missing = [n for n in storages.REQUIRED_FILES if not (path / n).is_file()]
            if missing:
                raise InvalidURIError(f"Invalid URI {uri!r}: the folder lacks {', '.join(missing)}")
            # links out of the folder and the size limit, from the file sizes: refused before a byte is copied
            storages.plan_folder_copy(path, self._max_model_bytes)
        return scheme, rest

    @property
    def _max_model_bytes(self) -> int:
        return self.settings.ain_model_max_size_in_mb * storages.MIB

    def check_model_type(self, model_type: str) -> None:
        name = normalise_name(model_type)
        if name in transformers_config_names():
            raise CreateModelError(f"'{model_type}' is already used by a Transformers config, pick another name.")
        registered = self.plugins.model_type(name)
        if registered is not None:
            raise CreateModelError(
                f"'{model_type}' is already used by plugin {registered.plugin}, pick another name.")
        user = self.catalog.model_types_in_use().get(name)
        if user is not None:
            raise CreateModelError(f"'{model_type}' is already used by model {user}, pick another name.")

    def register(self, model_id: str, uri: str) -> ModelRecord:
        validate_model_id(model_id)
        existing = self.catalog.find(model_id)  # checked before the URI, in IoTDB's order
        if existing is not None and self._is_repeat(existing, uri):
            return existing  # the DataNode re-sent a call whose answer it did not get
        if existing is not None:
            raise ModelExistedError(model_id)
        scheme, rest = self._check_uri(uri)
        model_type = "unknown"
        if scheme == "file":
            model_type = folders.read_folder_config(Path(rest))["model_type"]
        with self._lock:
            if model_id in self.catalog:  # registered meanwhile
                raise ModelExistedError(model_id)
            if scheme == "file":
                self.check_model_type(model_type)
            record = self.catalog.add(ModelRecord(
                model_id=model_id, model_type=model_type, category=Category.USER_DEFINED,
                state=State.ACTIVATING, source=uri, reason="registering"))
        outcome: list[AINodeError] = []
        thread = threading.Thread(target=lambda: outcome.extend(self._complete_registration(record, scheme, uri)),
                                  name=f"register-{model_id}", daemon=True)
        self._threads.append(thread)
        thread.start()
        if scheme == "file":
            thread.join(self.settings.ain_model_registration_wait_in_ms / 1000)
            if not thread.is_alive() and outcome:
                self.catalog.remove(model_id)  # nothing half-registered: the caller gets the reason now
                raise outcome[0]
        return self.catalog.get(model_id)

    @staticmethod
    def _is_repeat(existing: ModelRecord, uri: str) -> bool:
        return (existing.category is Category.USER_DEFINED and existing.source == uri
                and existing.state in (State.ACTIVATING, State.ACTIVE))

    def _complete_registration(self, record: ModelRecord, scheme: str, uri: str) -> list[AINodeError]:
        """Copy, check and activate the model; on failure leave it ``failed`` and return the error."""
        final = self.catalog.model_dir(record)
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{record.model_id}.", dir=final.parent))
        try:
            storage = self.plugins.registry("model_storages")[scheme].record
            storage.fetch(uri, staging, lambda message: self.catalog.update(record.model_id, reason=message))
            # again after the copy: a download is only measured here, a local file may have grown since the check
            storages.check_model_size(storages.folder_size(staging), self._max_model_bytes, f"the model at {uri}")
            model_type = folders.read_folder_config(staging)["model_type"]
            if scheme != "file":  # a local folder's model_type was claimed at once, in register()
                with self._lock:
                    self.check_model_type(model_type)
                    self.catalog.update(record.model_id, model_type=model_type)  # claimed: no one else takes it
            # Only this registration uses ``final`` (its id is taken and activating, which DROP refuses), so the
            # rename and the import of the folder's code, however slow, happen outside the lock.
            if final.exists():
                shutil.rmtree(final)
            staging.rename(final)
            self.catalog.update(record.model_id, reason="importing the model's code")
            spec = self._load_spec(final)
            with self._lock:
                self._add_spec_plugin(record.model_id, final, spec)
                self.catalog.update(record.model_id, model_type=model_type, state=State.ACTIVE, reason="")
            log.info("model %s registered from %s", record.model_id, uri)
            return []
        except Exception as exc:
            error = exc if isinstance(exc, AINodeError) else CreateModelError(f"{type(exc).__name__}: {exc}")
            log.warning("registering %s from %s failed: %s", record.model_id, uri, error.message)
            shutil.rmtree(staging, ignore_errors=True)
            if final.exists() and self.plugins.plugins.get(folders.plugin_name(record.model_id)) is None:
                shutil.rmtree(final, ignore_errors=True)
            self.catalog.update(record.model_id, state=State.FAILED, reason=error.message)
            return [error]

    def wait(self, timeout: float = 60) -> None:
        """Wait for background registrations (tests, CLI)."""
        for thread in list(self._threads):
            thread.join(timeout)

    # --- DROP MODEL ----------------------------------------------------------------------------------

    def drop(self, model_id: str) -> None:
        try:
            record = self.catalog.get(model_id)
        except ModelNotExistError:
            raise ModelNotExistError(model_id, for_drop=True) from None
        if record.category is Category.BUILTIN:
            raise DropBuiltinModelError(model_id)
        if record.state is State.TRAINING:
            from ainode_core.training.tasks import cancel_tuning

            cancel_tuning(self, model_id)  # stops the job at its next step; then the model goes like any other
        elif record.state is State.ACTIVATING:
            raise DropModelError(f"Model {model_id} is activating; wait until it finishes, then drop it.")
        self.catalog.update(model_id, state=State.DROPPING, reason="dropping")
        self.engine.drop_instances(model_id)
        self.plugins.remove_plugin(folders.plugin_name(model_id))
        shutil.rmtree(self.catalog.model_dir(record), ignore_errors=True)
        self.catalog.remove(model_id)

    # --- CREATE MODEL ... FROM MODEL ... ON DATASET --------------------------------------------------

    def finetune(self, request: Any) -> ModelRecord:
        from ainode_core.training.tasks import start_tuning

        return start_tuning(self, request, self._lock)

    def shutdown(self) -> None:
        """Stop fine-tuning processes: their models end ``failed`` (training cannot resume)."""
        for task in list(self.tasks.values()):
            task.stop()
        for task in list(self.tasks.values()):
            task.join(timeout=30)
