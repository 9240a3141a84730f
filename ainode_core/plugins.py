"""Plugin discovery, attribution and the registries of everything plugins register.

Plugins arrive through the entry-point group ``ainode.plugins`` (built-ins too), from user model folders
(:mod:`ainode_core.models.folders`), or in tests as objects passed to :meth:`PluginManager.add_plugin`.

Environment switches:

* ``AINODE_LOAD_PLUGINS``: unset = all; empty = none; ``a,b`` = only those (names or distribution names).
* ``AINODE_DISABLE_PLUGINS``: ``a,b`` = skip those.
* ``AINODE_STRICT_PLUGINS=1``: a plugin that fails to import or register raises instead of being skipped.
* ``AINODE_PLUGIN_OVERRIDES``: ``model_type=plugin,...``: the operator's explicit choice when two plugins
  claim one name (the only way a built-in can be shadowed).
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Iterable

import pluggy

from ainode_core import hookspecs
from ainode_core.errors import PluginError
from ainode_core.records import normalise_name

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "ainode.plugins"
CORE_PLUGIN_NAME = "ainode_core"


@dataclass
class PluginInfo:
    """One plugin as `ainode plugins` shows it."""

    name: str
    distribution: str | None = None
    version: str | None = None
    hooks: list[str] = field(default_factory=list)
    registered: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    builtin: bool = False
    source: str = "entry point"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "hooks": sorted(self.hooks),
            "registered": {kind: sorted(names) for kind, names in self.registered.items() if names},
            "errors": list(self.errors),
            "builtin": self.builtin,
            "source": self.source,
        }


@dataclass(frozen=True)
class Registered:
    """A record and the plugin that registered it."""

    record: Any
    plugin: str


@dataclass(frozen=True)
class Conflict:
    kind: str
    name: str
    claimants: tuple[str, ...]

    def message(self) -> str:
        who = ", ".join(self.claimants)
        return (
            f"{self.kind[:-1]} '{self.name}' is claimed by several plugins ({who}); none of them was registered. "
            f"Uninstall or disable one (AINODE_DISABLE_PLUGINS), or choose one with "
            f"AINODE_PLUGIN_OVERRIDES={self.name}=<plugin>."
        )


def _env_list(name: str) -> list[str] | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return [normalise_name(item) for item in value.split(",") if item.strip()]


def strict_mode() -> bool:
    return os.environ.get("AINODE_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes", "on"}


def _overrides() -> dict[str, str]:
    result: dict[str, str] = {}
    for item in os.environ.get("AINODE_PLUGIN_OVERRIDES", "").split(","):
        if "=" in item:
            key, value = item.split("=", 1)
            result[normalise_name(key)] = normalise_name(value)
    return result


class PluginManager:
    """Loads plugins and keeps the registries. Build one with :func:`get_plugin_manager` in the node;
    tests build their own (``load_entry_points=False`` and :meth:`add_plugin`)."""

    def __init__(self, *, load_entry_points: bool = True, strict: bool | None = None) -> None:
        self.strict = strict_mode() if strict is None else strict
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self._lock = threading.RLock()
        self._registries: dict[str, dict[str, Registered]] = {}
        self.conflicts: list[Conflict] = []
        from ainode_core import core_plugin

        self._add(core_plugin, PluginInfo(name=CORE_PLUGIN_NAME, distribution="ainode-core",
                                          version=_dist_version("ainode-core"), builtin=True, source="core"))
        if load_entry_points:
            self._load_entry_points()
        self.rebuild()

    # --- loading ---------------------------------------------------------------------------------------

    def _fail(self, info: PluginInfo, message: str, exc: BaseException | None = None) -> None:
        info.errors.append(message)
        if self.strict:
            raise PluginError(message) from exc
        log.warning("%s", message)

    def _load_entry_points(self) -> None:
        allow = _env_list("AINODE_LOAD_PLUGINS")
        block = set(_env_list("AINODE_DISABLE_PLUGINS") or [])
        for entry_point in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
            dist = entry_point.dist
            dist_name = dist.metadata["Name"] if dist is not None else None
            names = {normalise_name(entry_point.name)} | ({normalise_name(dist_name)} if dist_name else set())
            if allow is not None and not names & set(allow):
                continue
            if names & block:
                log.info("plugin %s is disabled by AINODE_DISABLE_PLUGINS", entry_point.name)
                continue
            if entry_point.name in self.plugins:
                continue  # the same distribution seen twice on sys.path
            info = PluginInfo(
                name=entry_point.name,
                distribution=dist_name,
                version=dist.version if dist is not None else None,
                builtin=bool(dist_name and normalise_name(dist_name) in BUILTIN_DISTRIBUTIONS),
            )
            try:
                module = entry_point.load()
            except Exception as exc:  # a broken plugin must not break the node
                self.plugins[info.name] = info
                self._fail(
                    info,
                    f"plugin '{entry_point.name}' ({dist_name or 'unknown distribution'}) failed to import and "
                    f"was skipped: {type(exc).__name__}: {exc}. Fix or uninstall it, or set "
                    f"AINODE_DISABLE_PLUGINS={entry_point.name}.",
                    exc,
                )
                continue
            self._add(module, info)

    def _add(self, plugin: object, info: PluginInfo) -> None:
        try:
            self._pm.register(plugin, name=info.name)
            self._pm.check_pending()
        except Exception as exc:
            if self._pm.is_registered(plugin):
                self._pm.unregister(plugin)
            self.plugins[info.name] = info
            self._fail(info, f"plugin '{info.name}' could not be registered: {exc}", exc)
            return
        info.hooks = sorted(
            impl_name
            for impl_name in dir(plugin)
            if impl_name.startswith("ainode_") and callable(getattr(plugin, impl_name, None))
        )
        self.plugins[info.name] = info

    def add_plugin(self, plugin: object, name: str, *, distribution: str | None = None,
                   version: str | None = None, source: str = "object") -> PluginInfo:
        """Register a plugin object at run time (model folders, tests) and rebuild the registries."""
        with self._lock:
            info = PluginInfo(name=name, distribution=distribution, version=version, source=source)
            self._add(plugin, info)
            self.rebuild()
            return self.plugins[name]

    def remove_plugin(self, name: str) -> None:
        with self._lock:
            plugin = self._pm.get_plugin(name)
            if plugin is not None:
                self._pm.unregister(plugin)
            self.plugins.pop(name, None)
            self.rebuild()

    # --- registries ------------------------------------------------------------------------------------

    def rebuild(self) -> None:
        """Call every registration hook of every plugin on its own and rebuild the registries."""
        with self._lock:
            for info in self.plugins.values():
                info.registered = {}
            claims: dict[str, dict[str, list[Registered]]] = {kind: {} for kind in hookspecs.REGISTRATION_HOOKS}
            for kind, hook_name in hookspecs.REGISTRATION_HOOKS.items():
                for impl in getattr(self._pm.hook, hook_name).get_hookimpls():
                    info = self.plugins[impl.plugin_name]
                    try:
                        records = impl.function() or []
                        records = list(records)
                        for record in records:
                            _name_of(record)
                    except Exception as exc:
                        self._fail(info, f"plugin '{info.name}' failed in {hook_name}: {type(exc).__name__}: {exc}",
                                   exc)
                        continue
                    for record in records:
                        claims[kind].setdefault(normalise_name(_name_of(record)), []).append(
                            Registered(record, info.name)
                        )
            # Model ids of built-in models are names too: two plugins shipping one id is a conflict.
            self.conflicts = []
            overrides = _overrides()
            registries: dict[str, dict[str, Registered]] = {}
            for kind, by_name in claims.items():
                registries[kind] = {}
                for name, claimants in by_name.items():
                    chosen = self._resolve(kind, name, claimants, overrides)
                    if chosen is not None:
                        registries[kind][name] = chosen
                        self.plugins[chosen.plugin].registered.setdefault(kind, []).append(_name_of(chosen.record))
            registries["builtin_models"] = self._builtin_models(registries["model_types"], overrides)
            self._registries = registries

    def _resolve(self, kind: str, name: str, claimants: list[Registered],
                 overrides: dict[str, str]) -> Registered | None:
        plugin_names = tuple(sorted({c.plugin for c in claimants}))
        if len(claimants) == 1:
            return claimants[0]
        wanted = overrides.get(name)
        chosen = [c for c in claimants if normalise_name(c.plugin) == wanted]
        if len(chosen) == 1:
            log.warning("%s '%s' claimed by %s; using %s (AINODE_PLUGIN_OVERRIDES)",
                        kind, name, ", ".join(plugin_names), chosen[0].plugin)
            return chosen[0]
        conflict = Conflict(kind, name, plugin_names if len(plugin_names) > 1 else
                            tuple(c.plugin for c in claimants))
        self.conflicts.append(conflict)
        # A built-in is never shadowed implicitly: it keeps the name and the other claimants are rejected.
        builtins = [c for c in claimants if self.plugins[c.plugin].builtin]
        keep = builtins[0] if len(builtins) == 1 and len({c.plugin for c in builtins}) == 1 else None
        message = conflict.message() if keep is None else (
            f"{kind[:-1]} '{name}' belongs to built-in plugin {keep.plugin}; the claim of "
            f"{', '.join(p for p in plugin_names if p != keep.plugin)} was rejected. Rename it, or set "
            f"AINODE_PLUGIN_OVERRIDES={name}=<plugin> to replace the built-in on purpose.")
        for plugin_name in plugin_names:
            if keep is None or plugin_name != keep.plugin:
                self.plugins[plugin_name].errors.append(message)
        if self.strict:
            raise PluginError(message)
        log.warning("%s", message)
        return keep

    def _builtin_models(self, model_types: dict[str, Registered],
                        overrides: dict[str, str]) -> dict[str, Registered]:
        claims: dict[str, list[Registered]] = {}
        for registered in model_types.values():
            for builtin in registered.record.builtin_models:
                claims.setdefault(builtin.model_id, []).append(
                    Registered((builtin, registered.record), registered.plugin)
                )
        result = {}
        for model_id, claimants in claims.items():
            chosen = self._resolve("builtin_models", model_id, claimants, overrides)
            if chosen is not None:
                result[model_id] = chosen
                self.plugins[chosen.plugin].registered.setdefault("builtin_models", []).append(model_id)
        return result

    def registry(self, kind: str) -> dict[str, Registered]:
        return dict(self._registries.get(kind, {}))

    def model_type(self, model_type: str) -> Registered | None:
        return self._registries["model_types"].get(normalise_name(model_type))

    @property
    def hook(self) -> Any:
        """Call lifecycle hooks: ``manager.hook.ainode_startup(settings=...)``."""
        return self._pm.hook

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call an observer hook; a failing observer is logged and never breaks the node."""
        for impl in getattr(self._pm.hook, hook_name).get_hookimpls():
            try:
                impl.function(*[kwargs[arg] for arg in impl.argnames])
            except Exception:
                log.exception("plugin '%s' failed in %s (ignored)", impl.plugin_name, hook_name)

    def decide(self, hook_name: str, default: Any, **kwargs: Any) -> Any:
        """Call a ``firstresult`` decision hook; no answer (or a failing plugin) keeps ``default``."""
        try:
            answer = getattr(self._pm.hook, hook_name)(**kwargs)
        except Exception:
            log.exception("a plugin failed in %s; using the default %r", hook_name, default)
            return default
        return default if answer is None else answer

    def listing(self, include_core: bool = True) -> list[dict[str, Any]]:
        return [info.as_dict() for info in self.plugins.values() if include_core or info.source != "core"]


BUILTIN_DISTRIBUTIONS = {"ainode_plugin_sktime", "ainode_plugin_timer", "ainode_plugin_chronos2",
                         "ainode_plugin_moirai", "ainode_plugin_toto", "ainode_plugin_moment"}


def _name_of(record: Any) -> str:
    for attribute in ("model_type", "name", "scheme", "task"):
        value = getattr(record, attribute, None)
        if isinstance(value, str) and value:
            return value
    raise TypeError(f"registration hooks must return ainode_core.records objects, got {record!r}")


def _dist_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


_manager: PluginManager | None = None
_manager_lock = threading.Lock()


def get_plugin_manager() -> PluginManager:
    """The process-wide manager: entry points are discovered once per process."""
    global _manager
    with _manager_lock:
        if _manager is None:
            _manager = PluginManager()
        return _manager


def iter_model_types(manager: PluginManager) -> Iterable[Registered]:
    return manager.registry("model_types").values()
