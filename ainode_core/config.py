"""``$IOTDB_AINODE_HOME/conf/iotdb-ainode.properties`` → a typed, validated :class:`Settings`.

Every key of IoTDB's AINode (contract section 6) is here with its default, plus ainode's own serving
knobs. Relative paths resolve against ``IOTDB_AINODE_HOME`` (default: the current directory). Unknown keys
are warned about; a bad value raises :class:`ConfigError` naming the key, the file and what is allowed.
"""
from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

from jproperties import Properties

from ainode_core.errors import ConfigError
from ainode_core.suggest import did_you_mean

log = logging.getLogger(__name__)

CONFIG_RELATIVE_PATH = Path("conf") / "iotdb-ainode.properties"
HOME_ENV = "IOTDB_AINODE_HOME"


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"true", "1", "yes", "on"}:
        return True
    if lowered in {"false", "0", "no", "off"}:
        return False
    raise ValueError("expected true or false (or 1 / 0)")


def _endpoint(text: str) -> str:
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("expected host:port, e.g. 127.0.0.1:10710")
    return text.strip()


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value < 65536:
        raise ValueError("expected a port number between 0 and 65535 (0 = pick a free port)")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("expected a positive integer")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("expected an integer >= 0")
    return value


def _ratio(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise ValueError("expected a number in (0, 1]")
    return value


def _at_least_one(text: str) -> float:
    value = float(text)
    if value < 1:
        raise ValueError("expected a number >= 1")
    return value


def _mem_map(text: str) -> dict[str, int]:
    """``model_id:bytes,model_id:bytes``: per-model memory estimates used by LOAD MODEL placement."""
    result: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition(":")
        if not sep:
            raise ValueError("expected model_id:bytes pairs separated by commas")
        result[name.strip()] = int(value)
    return result


def _isolation(text: str) -> str:
    value = text.strip().lower()
    if value not in ("thread", "process"):
        raise ValueError("expected thread or process")
    return value


def _list(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _setting(default: Any, parse: Callable[[str], Any] = str, doc: str = "") -> Any:
    return field(default=default, metadata={"parse": parse, "doc": doc})


@dataclass(frozen=True)
class Settings:
    """Typed settings. Attribute names are the property keys."""

    cluster_name: str = _setting("defaultCluster", doc="name of the IoTDB cluster to join")
    ain_seed_config_node: str = _setting("127.0.0.1:10710", _endpoint, "ConfigNode to register with")
    ain_rpc_address: str = _setting("127.0.0.1", doc="address the Thrift service binds to")
    ain_rpc_port: int = _setting(10810, _port, "port of the Thrift service")
    ain_thrift_compression_enabled: bool = _setting(False, _bool, "compact protocol instead of binary")
    ain_internal_ssl_enabled: bool = _setting(False, _bool, "TLS on the Thrift service")
    ain_thrift_ssl_cert_file: str = _setting("", doc="TLS certificate (PEM)")
    ain_thrift_ssl_key_file: str = _setting("", doc="TLS private key (PEM)")
    ain_cluster_ingress_address: str = _setting("127.0.0.1", doc="DataNode for reading datasets")
    ain_cluster_ingress_port: int = _setting(6667, _port)
    ain_cluster_ingress_username: str = _setting("root")
    ain_cluster_ingress_password: str = _setting("root")
    ain_cluster_ingress_time_zone: str = _setting("UTC+8")
    ain_cluster_ingress_ssl_enabled: bool = _setting(False, _bool)
    ain_system_dir: Path = _setting(Path("data/ainode/system"), Path)
    ain_models_dir: Path = _setting(Path("data/ainode/models"), Path)
    ain_logs_dir: Path = _setting(Path("logs"), Path)
    ain_inference_batch_interval_in_ms: int = _setting(15, _non_negative_int,
                                                       "longest a request waits for company in a batch")
    ain_inference_max_batch_size: int = _setting(128, _positive_int, "most requests merged into one model call")
    ain_inference_max_output_length: int = _setting(2880, _positive_int, "largest output_length accepted")
    ain_inference_timeout_in_ms: int = _setting(60000, _positive_int, "default deadline of a request")
    ain_inference_hung_call_grace_in_ms: int = _setting(
        5000, _positive_int, "a model call this long past all its callers' deadlines is abandoned (hung model)")
    ain_inference_max_input_size_in_mb: int = _setting(
        256, _positive_int, "largest decoded input of one request (rows x columns x 8 bytes), checked before decoding")
    ain_inference_max_queue_size: int = _setting(1024, _positive_int, "queued requests per model before 1521")
    ain_inference_memory_usage_ratio: float = _setting(0.4, _ratio)
    ain_inference_extra_memory_ratio: float = _setting(1.2, _at_least_one)
    ain_inference_model_mem_usage_map: dict = _setting(None, _mem_map)  # type: ignore[assignment]
    ain_inference_isolation: str = _setting(
        "thread", _isolation, "run model instances in the node (thread) or each in its own process (process)")
    ain_rpc_max_connections: int = _setting(
        512, _positive_int,
        "most Thrift connections served at once; one more gets an overload status on its first call (a ConfigNode "
        "heartbeat is still answered). Keep it below the open-files limit (ulimit -n)")
    ain_rpc_idle_timeout_in_ms: int = _setting(
        600000, _non_negative_int,
        "a connection with no request for this long is closed (0: never); a DataNode reconnects by itself")
    ain_rpc_frame_timeout_in_ms: int = _setting(
        60000, _positive_int, "once a request starts arriving, all of it must arrive within this time")
    ain_thrift_max_frame_size: int = _setting(
        67108864, _positive_int,
        "largest request in bytes (a DataNode sends at most 64 MiB); a larger one is answered with a status")
    ain_model_uri_allowed_roots: tuple = _setting((), _list, "local roots CREATE MODEL may read from; empty = any")
    ain_model_registration_wait_in_ms: int = _setting(
        40000, _non_negative_int,
        "how long CREATE MODEL from a local folder waits for the model to be active before it answers "
        "(below the DataNode's 60 s socket timeout); longer registrations finish in the background. A "
        "fine-tuning waits as long for its job to accept the dataset, so dataset errors are the call's answer")
    ain_model_max_size_in_mb: int = _setting(
        4096, _positive_int,
        "largest model folder (MiB, all its files together) CREATE MODEL accepts; checked before copying")
    ain_model_import_timeout_in_ms: int = _setting(
        30000, _positive_int,
        "how long importing a model folder's Python code may take before its registration fails "
        "(keep it below ain_model_registration_wait_in_ms so the caller gets the error)")
    ain_fetch_builtin_weights: bool = _setting(True, _bool, "download missing built-in weights at start")
    ain_fetch_noncommercial_weights: bool = _setting(
        False, _bool, "also download built-in weights licensed for non-commercial use only (moirai2: CC BY-NC 4.0)")
    home: Path = field(default=Path("."), metadata={"internal": True})
    source_file: Path | None = field(default=None, metadata={"internal": True})

    def __post_init__(self) -> None:
        if self.ain_inference_model_mem_usage_map is None:
            object.__setattr__(self, "ain_inference_model_mem_usage_map", {})
        for name in ("ain_system_dir", "ain_models_dir", "ain_logs_dir"):
            path = Path(getattr(self, name))
            if not path.is_absolute():
                object.__setattr__(self, name, (Path(self.home) / path).resolve())

    @property
    def rpc_endpoint(self) -> tuple[str, int]:
        return self.ain_rpc_address, self.ain_rpc_port

    @property
    def seed_config_node(self) -> tuple[str, int]:
        host, _, port = self.ain_seed_config_node.rpartition(":")
        return host, int(port)

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)


def setting_keys() -> list[str]:
    return [f.name for f in fields(Settings) if not f.metadata.get("internal")]


def ainode_home() -> Path:
    """``$IOTDB_AINODE_HOME``, else the current directory. Set but empty is an error: it is nearly always a
    script's unset variable, and running on defaults would put a node's data wherever the command ran."""
    value = os.environ.get(HOME_ENV)
    if value is not None and not value.strip():
        raise ConfigError(f"{HOME_ENV} is set but empty; set it to the node's home folder (the one holding "
                          f"{CONFIG_RELATIVE_PATH}), or unset it to use the current directory.")
    return Path(value or ".").resolve()


# Old names still read (with a warning), so a config file written for an earlier version keeps working.
RENAMED_KEYS = {"ain_rpc_worker_threads": "ain_rpc_max_connections"}


def parse_properties(values: dict[str, str], *, home: Path, source: Path | None) -> Settings:
    known = {f.name: f for f in fields(Settings) if not f.metadata.get("internal")}
    parsed: dict[str, Any] = {}
    where = str(source) if source else "settings"
    for key, raw in values.items():
        if key in RENAMED_KEYS and RENAMED_KEYS[key] not in values:
            log.warning("%s: '%s' is now called '%s'; its value is used, rename it", where, key, RENAMED_KEYS[key])
            key = RENAMED_KEYS[key]
        if key not in known:
            log.warning("%s: unknown key '%s' ignored.%s (Every key is listed in conf/iotdb-ainode.properties.)",
                        where, key, did_you_mean(key, [*known, *RENAMED_KEYS]))
            continue
        parse = known[key].metadata["parse"]
        try:
            parsed[key] = parse(raw.strip())
        except ValueError as exc:
            raise ConfigError(f"{where}: bad value for '{key}': {raw!r} ({exc})") from exc
    return Settings(home=home, source_file=source, **parsed)


def load_settings(home: Path | None = None, overrides: dict[str, str] | None = None) -> Settings:
    """Read the config file under ``home`` (default ``$IOTDB_AINODE_HOME``); a missing file means defaults."""
    home = (home or ainode_home()).resolve()
    path = home / CONFIG_RELATIVE_PATH
    values: dict[str, str] = {}
    if path.exists():
        properties = Properties()
        try:
            with open(path, "rb") as handle:
                properties.load(handle, "utf-8")
        except Exception as exc:
            raise ConfigError(f"{path}: cannot be read as a java properties file: {exc}") from exc
        values = {key: value.data for key, value in properties.items()}
    values.update(overrides or {})
    return parse_properties(values, home=home, source=path if path.exists() else None)


def read_properties(path: Path) -> dict[str, str]:
    properties = Properties()
    with open(path, "rb") as handle:
        properties.load(handle, "utf-8")
    return {key: value.data for key, value in properties.items()}


def write_properties_atomically(path: Path, values: dict[str, str], comment: str = "") -> None:
    """Write java-properties text with temp file + rename, so a crash leaves the old file or the new one."""
    from ainode_core.models.atomic import atomic_write_bytes

    properties = Properties()
    for key, value in values.items():
        properties[key] = str(value)
    import io

    buffer = io.BytesIO()
    properties.store(buffer, initial_comments=comment or None, encoding="utf-8", timestamp=False)
    atomic_write_bytes(path, buffer.getvalue())
