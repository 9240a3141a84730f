"""A user's model folder becomes a plugin at run time.

The folder holds ``config.json`` (``model_type``, ``auto_map``, ``pipeline_cls``), ``model.safetensors`` and
its ``.py`` files. Its modules are imported as a package under a unique name derived from the folder's path
(``ainode_user_models.m_<hash>``), never by putting the folder on ``sys.path``, so two folders with a module
of the same name never collide.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import json
import sys
import threading
import types
from pathlib import Path
from typing import Any

from ainode_core.errors import CreateModelError
from ainode_core.hookspecs import hookimpl
from ainode_core.pipelines.base import Pipeline
from ainode_core.records import ModelTypeSpec

PACKAGE_ROOT = "ainode_user_models"
# folder path → imports of it given up on (still running somewhere): the next import takes a fresh name, so it
# never waits on the module locks the abandoned one holds.
_abandoned: dict[str, int] = {}


def read_folder_config(folder: Path) -> dict[str, Any]:
    path = folder / "config.json"
    try:
        config = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise CreateModelError(f"{folder} has no config.json") from None
    except ValueError as exc:
        raise CreateModelError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(config, dict) or not isinstance(config.get("model_type"), str) or not config["model_type"]:
        raise CreateModelError(f"{path} must name its model_type")
    if not isinstance(config.get("pipeline_cls"), str) or "." not in config["pipeline_cls"]:
        raise CreateModelError(f"{path} must name its pipeline as \"pipeline_cls\": \"module.ClassName\"")
    return config


def package_name(folder: Path) -> str:
    path = str(folder.resolve())
    digest = hashlib.sha1(path.encode()).hexdigest()[:12]
    retry = _abandoned.get(path, 0)
    return f"{PACKAGE_ROOT}.m_{digest}" + (f"_{retry}" if retry else "")


def import_folder(folder: Path) -> types.ModuleType:
    """Import the folder as a package under its unique name (its modules can import each other relatively
    or by ``<package>.module``); the package's ``__name__`` is that name."""
    from ainode_core.compat import install_iotdb_alias

    install_iotdb_alias()
    if PACKAGE_ROOT not in sys.modules:
        root = types.ModuleType(PACKAGE_ROOT)
        root.__path__ = []  # a namespace for the folders' packages
        sys.modules.setdefault(PACKAGE_ROOT, root)  # folders may be imported in parallel threads
    name = package_name(folder)
    for module_name in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module_name]  # re-import after a drop and re-register
    init = folder / "__init__.py"
    if init.exists():
        spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(folder)])
    else:  # a plain folder of modules: a package with no __init__ code
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
    if spec is None:
        raise CreateModelError(f"cannot import {folder}")
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    if spec.loader is not None:
        spec.loader.exec_module(package)
    return package


def resolve(folder: Path, dotted: str, package: str | None = None) -> Any:
    """``module.ClassName`` relative to the folder's package (``package``: the name it was imported under)."""
    module_name, _, attribute = dotted.rpartition(".")
    package = package or package_name(folder)
    try:
        module = importlib.import_module(f"{package}.{module_name}")
        return getattr(module, attribute)
    except Exception as exc:
        raise CreateModelError(f"cannot load {dotted} from {folder}: {type(exc).__name__}: {exc}") from exc


class FolderPlugin:
    """The plugin object registered for one model folder."""

    def __init__(self, spec: ModelTypeSpec) -> None:
        self.spec = spec

    @hookimpl
    def ainode_register_model_types(self) -> list[ModelTypeSpec]:
        return [self.spec]


def load_folder_spec(folder: Path) -> ModelTypeSpec:
    config = read_folder_config(folder)
    package = import_folder(folder).__name__  # one name throughout, even if the folder's name changes meanwhile
    pipeline_cls = resolve(folder, config["pipeline_cls"], package)
    if not (isinstance(pipeline_cls, type) and issubclass(pipeline_cls, Pipeline)):
        raise CreateModelError(
            f"{config['pipeline_cls']} in {folder} must subclass ainode_core.pipelines.ForecastPipeline "
            "(or iotdb.ainode.core.inference.pipeline.basic_pipeline.ForecastPipeline)")
    for key, dotted in (config.get("auto_map") or {}).items():
        resolve(folder, dotted, package)  # fail at registration, not at the first request
    return ModelTypeSpec(model_type=config["model_type"], pipeline_cls=pipeline_cls,
                         tasks=(pipeline_cls.task or "forecast",),
                         description=f"model folder {folder.name}")


def load_folder_spec_within(folder: Path, timeout_s: float) -> ModelTypeSpec:
    """:func:`load_folder_spec`, given up on after ``timeout_s`` (``ain_model_import_timeout_in_ms``).

    The folder's code runs at import, so it may take as long as it likes: it runs in a daemon thread of its
    own. Python cannot kill a thread, so one that outlives the limit is abandoned, not stopped: it finishes
    (or hangs) on its own, its result is ignored, and being a daemon it does not keep the process alive.
    """
    outcome: list[ModelTypeSpec | BaseException] = []

    def load() -> None:
        try:
            outcome.append(load_folder_spec(folder))
        except BaseException as exc:  # SystemExit from a module's code too: it must end this registration only
            outcome.append(exc)

    thread = threading.Thread(target=load, name=f"import-{folder.name}", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        path = str(folder.resolve())
        _abandoned[path] = _abandoned.get(path, 0) + 1
        raise CreateModelError(
            f"importing the code of model folder {folder} took longer than {timeout_s:g} s "
            "(ain_model_import_timeout_in_ms); make its modules do less at import time (load data lazily), "
            "or raise ain_model_import_timeout_in_ms in conf/iotdb-ainode.properties")
    result = outcome[0]
    if isinstance(result, Exception):
        raise result
    if isinstance(result, BaseException):
        raise CreateModelError(
            f"importing the code of model folder {folder} raised {type(result).__name__}: {result}") from result
    return result


def plugin_name(model_id: str) -> str:
    return f"model_folder:{model_id}"
