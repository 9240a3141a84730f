"""Opening ``apache-iotdb`` sessions against ``ain_cluster_ingress_*`` and turning their failures into our errors.

A DataNode that cannot be reached, or that refuses the login, is the node's configuration to fix
(:class:`ConfigError`, naming host:port and the keys); a statement the DataNode rejects is the request's
(:class:`InvalidInferenceConfigError`, with the DataNode's own message).
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pandas as pd

from ainode_core.config import CONFIG_RELATIVE_PATH
from ainode_core.errors import ConfigError, InvalidInferenceConfigError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ainode_core.config import Settings

__all__ = ["session_zone", "tree_session", "table_session", "run_query", "QueryResult", "CONNECT_TIMEOUT_MS"]

# Without a timeout a DataNode that accepts TCP but never answers hangs the fine-tuning task forever
# (upstream's weakness). The socket timeout also bounds each fetch, so it must outlast a slow page.
CONNECT_TIMEOUT_MS = 60_000
_KEYS = "ain_cluster_ingress_address / ain_cluster_ingress_port"
_LOGIN_KEYS = "ain_cluster_ingress_username / ain_cluster_ingress_password"
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


def session_zone(zone: str) -> str:
    """``UTC+8`` (the contract's default) -> ``+08:00``: Java's ZoneId reads both, but the Python client
    converts TIMESTAMP values with pandas, which reads only the latter (and warns once per value otherwise)."""
    match = _OFFSET.match(zone.strip())
    if not match:
        return zone.strip()
    sign, hours, minutes = match.groups()
    return f"{sign}{int(hours):02d}:{int(minutes or 0):02d}"


def _endpoint(settings: "Settings") -> str:
    return f"{settings.ain_cluster_ingress_address}:{settings.ain_cluster_ingress_port}"


def _open_failed(settings: "Settings", exc: BaseException) -> ConfigError:
    from iotdb.utils.exception import StatementExecutionException

    where = _endpoint(settings)
    if isinstance(exc, StatementExecutionException):
        return ConfigError(
            f"The IoTDB DataNode at {where} refused the session ({str(exc).rstrip('.')}). Check {_LOGIN_KEYS} in "
            f"{CONFIG_RELATIVE_PATH}."
        )
    return ConfigError(
        f"Cannot reach the IoTDB DataNode at {where} to read the dataset ({type(exc).__name__}: {exc}). "
        f"Start the DataNode, or point {_KEYS} in {CONFIG_RELATIVE_PATH} at a running one."
    )


def _guard_open(settings: "Settings", open_session: Callable[[], Any]) -> Any:
    try:
        return open_session()
    except (ConfigError, InvalidInferenceConfigError):
        raise
    except Exception as exc:  # IoTDBConnectionException, TTransportException, OSError, login refused
        raise _open_failed(settings, exc) from exc


@contextmanager
def tree_session(settings: "Settings") -> Iterator[Any]:
    """An open tree-model ``iotdb.Session.Session``, closed on exit."""
    from iotdb.Session import Session

    def open_session() -> Any:
        session = Session(
            settings.ain_cluster_ingress_address,
            settings.ain_cluster_ingress_port,
            user=settings.ain_cluster_ingress_username,
            password=settings.ain_cluster_ingress_password,
            zone_id=session_zone(settings.ain_cluster_ingress_time_zone),
            enable_redirection=False,  # reads only; redirection matters for writes
            use_ssl=settings.ain_cluster_ingress_ssl_enabled,
            connection_timeout_in_ms=CONNECT_TIMEOUT_MS,
        )
        session.open(False)
        return session

    session = _guard_open(settings, open_session)
    try:
        yield session
    finally:
        _quiet_close(session)


@contextmanager
def table_session(settings: "Settings", database: str | None = None) -> Iterator[Any]:
    """An open ``iotdb.table_session.TableSession`` (optionally bound to ``database``), closed on exit."""
    from iotdb.table_session import TableSession, TableSessionConfig

    def open_session() -> Any:
        config = TableSessionConfig(
            node_urls=[_endpoint(settings)],
            username=settings.ain_cluster_ingress_username,
            password=settings.ain_cluster_ingress_password,
            database=database,
            time_zone=session_zone(settings.ain_cluster_ingress_time_zone),
            enable_redirection=False,
            use_ssl=settings.ain_cluster_ingress_ssl_enabled,
            connection_timeout_in_ms=CONNECT_TIMEOUT_MS,
        )
        return TableSession(config)

    session = _guard_open(settings, open_session)
    try:
        yield session
    finally:
        _quiet_close(session)


def _quiet_close(session: Any) -> None:
    try:
        session.close()
    except Exception:  # the data is read; a failed goodbye must not fail the read
        pass


class QueryResult:
    """A finished query: the client's DataFrame plus each column's IoTDB type name (``DOUBLE``, ...)."""

    def __init__(self, frame: pd.DataFrame, types: dict[str, str]) -> None:
        self.frame = frame
        self.types = types


def run_query(session: Any, sql: str, settings: "Settings") -> QueryResult:
    """Execute ``sql`` and read every page. A rejected statement -> 1512 with the DataNode's message."""
    from iotdb.utils.exception import IoTDBConnectionException, StatementExecutionException
    from thrift.Thrift import TException

    try:
        with session.execute_query_statement(sql) as data_set:
            names = list(data_set.get_column_names())
            types = [getattr(t, "name", str(t)) for t in data_set.get_column_types()]
            frame = data_set.todf()
    except StatementExecutionException as exc:
        raise InvalidInferenceConfigError(f"IoTDB rejected the dataset query `{sql}`: {exc}") from exc
    except (IoTDBConnectionException, TException, OSError) as exc:
        raise ConfigError(
            f"Lost the connection to the IoTDB DataNode at {_endpoint(settings)} while running `{sql}` "
            f"({type(exc).__name__}: {exc}). Check that the DataNode is up ({_KEYS})."
        ) from exc
    return QueryResult(frame, dict(zip(names, types)))
