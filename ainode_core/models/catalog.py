"""The model catalog: every model's record, persisted atomically under ``ain_models_dir/catalog.json``.

On start the catalog is rebuilt from what plugins register (built-ins) plus what is on disk (user-defined
and fine-tuned models). Work that was in progress when the node stopped (registering, training, dropping)
is resolved on start, so no model is left ``activating`` or ``training`` forever.
"""
from __future__ import annotations

import json
import logging
import shutil
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

from ainode_core.errors import ModelExistedError, ModelNotExistError
from ainode_core.models.atomic import atomic_write_bytes
from ainode_core.models.record import Category, ModelRecord, State
from ainode_core.pipelines.base import ModelInfo
from ainode_core.plugins import PluginManager
from ainode_core.records import BuiltinModel, ModelTypeSpec

log = logging.getLogger(__name__)

CATALOG_FILE = "catalog.json"
CATALOG_VERSION = 1


class ModelCatalog:
    def __init__(self, models_dir: Path, plugins: PluginManager) -> None:
        self.models_dir = Path(models_dir)
        self.plugins = plugins
        self._lock = threading.RLock()
        self._records: dict[str, ModelRecord] = {}
        self._listeners: list[Callable[[ModelRecord], None]] = []
        self.models_dir.mkdir(parents=True, exist_ok=True)
        self._load()

    # --- persistence -----------------------------------------------------------------------------------

    @property
    def catalog_path(self) -> Path:
        return self.models_dir / CATALOG_FILE

    def _load(self) -> None:
        stored: dict[str, ModelRecord] = {}
        if self.catalog_path.exists():
            try:
                data = json.loads(self.catalog_path.read_text("utf-8"))
                stored = {item["model_id"]: ModelRecord.from_json(item) for item in data["models"]}
            except (ValueError, KeyError, TypeError) as exc:
                # Writes are atomic, so this is a hand-edited or foreign file: keep it for inspection.
                backup = self.catalog_path.with_suffix(".json.corrupt")
                shutil.copyfile(self.catalog_path, backup)
                log.error("%s is unreadable (%s); saved a copy as %s and starting from the built-ins",
                          self.catalog_path, exc, backup)
        with self._lock:
            self._records = {}
            for record in stored.values():
                if record.category is Category.BUILTIN:
                    continue  # rebuilt from the plugins below
                if record.state is State.DROPPING:  # finish a drop the previous process started
                    shutil.rmtree(self.model_dir(record), ignore_errors=True)
                    continue
                self._records[record.model_id] = self._recover(record)
            for model_id, registered in self.plugins.registry("builtin_models").items():
                builtin, spec = registered.record
                self._records[model_id] = self._builtin_record(builtin, spec, registered.plugin,
                                                               stored.get(model_id))
            self._save()

    def _recover(self, record: ModelRecord) -> ModelRecord:
        """Resolve work a previous process left half done."""
        folder = self.model_dir(record)
        if record.state is State.TRAINING:
            record.state, record.reason = State.FAILED, "the node stopped while this model was training"
        elif record.state is State.ACTIVATING:
            # The folder only counts once the record is active: whatever is there now is half done.
            shutil.rmtree(folder, ignore_errors=True)
            record.state, record.reason = State.FAILED, "the node stopped while this model was being registered"
        if record.state is State.ACTIVE and not folder.exists():
            record.state, record.reason = State.FAILED, f"model folder {folder} is missing"
        return record

    def _builtin_record(self, builtin: BuiltinModel, spec: ModelTypeSpec, plugin: str,
                        previous: ModelRecord | None) -> ModelRecord:
        record = ModelRecord(
            model_id=builtin.model_id,
            model_type=spec.model_type,
            category=Category.BUILTIN,
            state=State.ACTIVE,
            task=builtin.task,
            plugin=plugin,
            source=f"hf://{builtin.hf_repo_id}" if builtin.hf_repo_id else f"plugin {plugin}",
            description=builtin.description,
        )
        if previous is not None:
            record.created_at = previous.created_at
        if builtin.needs_weights:
            missing = self.missing_weight_files(builtin)
            folder = self.models_dir / Category.BUILTIN.value / builtin.model_id
            record.reason = builtin.licence_note
            if missing and builtin.noncommercial_licence:
                record.state = State.INACTIVE
                record.reason = (  # the operator decides: the licence first, then both ways to get the weights
                    f"weights missing ({', '.join(missing)}); {builtin.licence_note}. The node fetches them "
                    f"from https://huggingface.co/{builtin.hf_repo_id} only if you opt in with "
                    f"ain_fetch_noncommercial_weights=true in conf/iotdb-ainode.properties; or copy "
                    f"{' and '.join(builtin.weight_files)} into {folder}"
                )
            elif missing:
                record.state = State.INACTIVE
                record.reason = (
                    f"weights missing ({', '.join(missing)}): the node fetches them from "
                    f"https://huggingface.co/{builtin.hf_repo_id} when online; offline, copy config.json and "
                    f"model.safetensors into {folder}"
                )
        return record

    def missing_weight_files(self, builtin: BuiltinModel) -> list[str]:
        folder = self.models_dir / Category.BUILTIN.value / builtin.model_id
        return [name for name in builtin.weight_files if not (folder / name).is_file()]

    def _save(self) -> None:
        records = [r.to_json() for r in self._records.values()]
        payload = {"version": CATALOG_VERSION, "models": records}
        atomic_write_bytes(self.catalog_path, json.dumps(payload, indent=2, sort_keys=True).encode("utf-8"))

    # --- queries ---------------------------------------------------------------------------------------

    def list(self) -> list[ModelRecord]:
        with self._lock:
            return sorted(self._records.values(), key=_display_order)

    def get(self, model_id: str) -> ModelRecord:
        with self._lock:
            record = self._records.get(model_id)
            if record is None:
                raise ModelNotExistError(model_id)
            return record

    def find(self, model_id: str) -> ModelRecord | None:
        with self._lock:
            return self._records.get(model_id)

    def __contains__(self, model_id: str) -> bool:
        return model_id in self._records

    def model_dir(self, record: ModelRecord) -> Path:
        return self.models_dir / record.category.value / record.model_id

    def model_types_in_use(self) -> dict[str, str]:
        """model_type (lower-case) → model id, for user and fine-tuned models."""
        with self._lock:
            return {r.model_type.lower(): r.model_id for r in self._records.values()
                    if r.category is not Category.BUILTIN}

    def spec_for(self, record: ModelRecord) -> ModelTypeSpec | None:
        registered = self.plugins.model_type(record.model_type)
        return registered.record if registered else None

    def builtin(self, model_id: str) -> BuiltinModel | None:
        registered = self.plugins.registry("builtin_models").get(model_id)
        return registered.record[0] if registered else None

    def model_info(self, record: ModelRecord) -> ModelInfo:
        """The record as a pipeline sees it: its folder and its config (defaults, then config.json)."""
        config: dict[str, Any] = {}
        builtin = self.builtin(record.model_id) if record.category is Category.BUILTIN else None
        if builtin is not None:
            config.update(builtin.config)
        folder = self.model_dir(record)
        config_file = folder / "config.json"
        if config_file.is_file():
            try:
                config.update(json.loads(config_file.read_text("utf-8")))
            except ValueError:
                log.warning("%s is not valid JSON; using the defaults", config_file)
        return ModelInfo(
            model_id=record.model_id,
            model_type=record.model_type,
            category=record.category.value,
            task=record.task,
            path=folder if folder.exists() else None,
            config=config,
        )

    # --- changes ---------------------------------------------------------------------------------------

    def add(self, record: ModelRecord) -> ModelRecord:
        with self._lock:
            if record.model_id in self._records:
                raise ModelExistedError(record.model_id)
            self._records[record.model_id] = record
            self._save()
        self._notify(record)
        return record

    def update(self, model_id: str, **changes: Any) -> ModelRecord:
        with self._lock:
            record = self.get(model_id)
            for key, value in changes.items():
                setattr(record, key, value)
            self._save()
        self._notify(record)
        return record

    def remove(self, model_id: str) -> None:
        with self._lock:
            self.get(model_id)
            del self._records[model_id]
            self._save()

    def subscribe(self, listener: Callable[[ModelRecord], None]) -> None:
        self._listeners.append(listener)

    def _notify(self, record: ModelRecord) -> None:
        for listener in self._listeners:
            try:
                listener(record)
            except Exception:
                log.exception("catalog listener failed")


def _display_order(record: ModelRecord) -> tuple[int, str]:
    order = {Category.BUILTIN: 0, Category.USER_DEFINED: 1, Category.FINE_TUNED: 2}
    return order[record.category], record.model_id


def table_rows(records: Iterable[ModelRecord]) -> list[tuple[str, str, str, str]]:
    return [(r.model_id, r.model_type, r.category.value, r.state.value) for r in records]
