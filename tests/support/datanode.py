"""A DataNode test double built on apache-iotdb's generated ``IClientRPCService``.

It answers what ``iotdb.Session.Session`` and ``iotdb.table_session.TableSession`` (apache-iotdb 2.0.11) call
to open a session and run a query: openSession, requestStatementId, setTimeZone, executeQueryStatementV2,
fetchResultsV2, closeOperation, closeSession. Data lives in memory:

* ``tree``: ``{"root.plant.boiler.temperature": (timestamps, values, "DOUBLE"), ...}``; it understands the
  ``select <last node> from <prefix> [where time >= a and time < b]`` statements with ``*`` / ``**``.
* ``tables``: ``{"boiler": (DataFrame, {"time": "TIMESTAMP", "device": "STRING", ...})}``; it understands
  ``select <columns | *> from <table>``.

Results are encoded like a real DataNode's: ``queryResult`` is a list of TsBlock bytes (time column +
one value column per result column, nulls in the bitmap), ``page_rows`` rows per block, the first response
holding one block and ``moreData`` set so the client has to page through ``fetchResultsV2``. Tree results
are aligned by time (``ignoreTimeStamp`` false, column names are full paths); table results carry their
time as a TIMESTAMP value column (``ignoreTimeStamp`` true), as in IoTDB's table model. Block headers carry
storage types (INT64 for TIMESTAMP, TEXT for STRING), as Java's column classes report them.
"""
from __future__ import annotations

import itertools
import re
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from iotdb.thrift.common.ttypes import TSStatus
from iotdb.thrift.rpc import IClientRPCService
from iotdb.thrift.rpc.ttypes import (
    TSExecuteStatementResp,
    TSFetchResultsResp,
    TSOpenSessionResp,
    TSProtocolVersion,
)
from thrift.protocol import TBinaryProtocol
from thrift.server import TServer
from thrift.transport import TSocket, TTransport

from ainode_core.rpc.tsblock import Column, TsBlock, TSDataType, encode_tsblock

_TREE_SELECT = re.compile(
    r"^select\s+(?P<last>\S+)\s+from\s+(?P<prefix>\S+)"
    r"(?:\s+where\s+time\s*>=\s*(?P<start>-?\d+)\s+and\s+time\s*<\s*(?P<end>-?\d+))?\s*;?\s*$",
    re.IGNORECASE,
)
_TABLE_SELECT = re.compile(r"^select\s+(?P<columns>.+?)\s+from\s+(?P<table>[\w.]+)\s*;?\s*$", re.IGNORECASE)


def free_port() -> int:
    """A port nothing listens on (bound and released at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _match(pattern: list[str], path: list[str]) -> bool:
    """IoTDB path pattern: ``*`` is one node, ``**`` one or more."""
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match(rest, path[i:]) for i in range(1, len(path) + 1))
    return bool(path) and (head == "*" or head == path[0]) and _match(rest, path[1:])


# A DataNode's TsBlock header names each column's storage type (Java's LongColumn says INT64, BinaryColumn
# TEXT); the logical type (TIMESTAMP, STRING, DATE) travels in dataTypeList. apache-iotdb's reader accepts
# only the storage types in a block, so the double writes them the same way.
_STORAGE = {"TIMESTAMP": "INT64", "STRING": "TEXT", "BLOB": "TEXT", "DATE": "INT32"}


def _column(data_type: str, values: list[Any]) -> Column:
    kind = TSDataType[_STORAGE.get(data_type, data_type)]
    nulls = np.array([value is None or (isinstance(value, float) and np.isnan(value)) for value in values], bool)
    if kind in (TSDataType.STRING, TSDataType.TEXT, TSDataType.BLOB):
        data = np.array([None if null else str(v).encode() for v, null in zip(values, nulls)], dtype=object)
    else:
        dtype = {TSDataType.INT32: np.int32, TSDataType.FLOAT: np.float32, TSDataType.BOOLEAN: bool}.get(
            kind, np.float64 if kind == TSDataType.DOUBLE else np.int64)
        data = np.array([0 if null else v for v, null in zip(values, nulls)], dtype=dtype)
    return Column(kind, data, nulls)


@dataclass
class _Query:
    blocks: list[bytes]
    served: int = 0


@dataclass
class _Session:
    dialect: str
    database: str | None
    zone: str | None = None


@dataclass
class FakeDataNode(IClientRPCService.Iface):
    tree: dict[str, tuple[Any, Any, str]] = field(default_factory=dict)
    tables: dict[str, tuple[pd.DataFrame, dict[str, str]]] = field(default_factory=dict)
    username: str = "root"
    password: str = "root"
    page_rows: int = 3

    def __post_init__(self) -> None:
        self.statements: list[str] = []
        self.sessions: dict[int, _Session] = {}
        self.closed_sessions: list[int] = []
        self._queries: dict[int, _Query] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.socket = TSocket.TServerSocket(host="127.0.0.1", port=0)
        self.socket.listen()
        self.port = self.socket.handle.getsockname()[1]
        self.server = TServer.TThreadedServer(
            IClientRPCService.Processor(self), self.socket,
            TTransport.TFramedTransportFactory(), TBinaryProtocol.TBinaryProtocolFactory(), daemon=True)
        self.socket.listen = lambda: None  # already listening; serve() calls listen() again
        threading.Thread(target=self.server.serve, daemon=True).start()

    # --- sessions -----------------------------------------------------------------------------------

    def openSession(self, req):
        if (req.username, req.password) != (self.username, self.password):
            return TSOpenSessionResp(status=TSStatus(code=801, message="Authentication failed."),
                                     serverProtocolVersion=TSProtocolVersion.IOTDB_SERVICE_PROTOCOL_V3)
        session_id = next(self._ids)
        configuration = req.configuration or {}
        self.sessions[session_id] = _Session(configuration.get("sql_dialect", "tree"), configuration.get("db"),
                                             req.zoneId)
        return TSOpenSessionResp(status=TSStatus(code=200), sessionId=session_id,
                                 serverProtocolVersion=TSProtocolVersion.IOTDB_SERVICE_PROTOCOL_V3,
                                 configuration={"timestamp_precision": "ms"})

    def requestStatementId(self, sessionId):
        return next(self._ids)

    def setTimeZone(self, req):
        self.sessions[req.sessionId].zone = req.timeZone
        return TSStatus(code=200)

    def getTimeZone(self, sessionId):  # pragma: no cover - only when a client sets no zone
        raise NotImplementedError

    def closeSession(self, req):
        self.closed_sessions.append(req.sessionId)
        return TSStatus(code=200)

    def closeOperation(self, req):
        with self._lock:
            self._queries.pop(req.queryId, None)
        return TSStatus(code=200)

    # --- queries ------------------------------------------------------------------------------------

    def executeQueryStatementV2(self, req):
        self.statements.append(req.statement)
        session = self.sessions.get(req.sessionId)
        if session is None:
            return TSExecuteStatementResp(status=TSStatus(code=1002, message="Session is not logged in"))
        if session.dialect == "table":
            outcome = self._table_query(req.statement)
        else:
            outcome = self._tree_query(req.statement)
        if isinstance(outcome, TSStatus):
            return TSExecuteStatementResp(status=outcome)
        names, types, timestamps, columns, ignore_time = outcome
        blocks = [
            encode_tsblock(TsBlock(timestamps[i:i + self.page_rows],
                                   [_column(t, list(c[i:i + self.page_rows])) for t, c in zip(types, columns)]))
            for i in range(0, len(timestamps), self.page_rows)
        ]
        query_id = next(self._ids)
        with self._lock:
            self._queries[query_id] = _Query(blocks, served=min(1, len(blocks)))
        return TSExecuteStatementResp(
            status=TSStatus(code=200), queryId=query_id, columns=names, dataTypeList=types,
            ignoreTimeStamp=ignore_time, queryResult=blocks[:1], moreData=len(blocks) > 1,
            tableModel=session.dialect == "table",
        )

    def executeStatementV2(self, req):
        return self.executeQueryStatementV2(req)

    def fetchResultsV2(self, req):
        with self._lock:
            query = self._queries.get(req.queryId)
            if query is None or query.served >= len(query.blocks):
                return TSFetchResultsResp(status=TSStatus(code=200), hasResultSet=False, moreData=False, isAlign=True)
            block = query.blocks[query.served]
            query.served += 1
            more = query.served < len(query.blocks)
        return TSFetchResultsResp(status=TSStatus(code=200), hasResultSet=True, moreData=more, isAlign=True,
                                  queryResult=[block])

    def _tree_query(self, statement: str):
        match = _TREE_SELECT.match(statement.strip())
        if not match:
            return TSStatus(code=700, message=f"Error occurred while parsing SQL to physical plan: {statement}")
        pattern = f"{match['prefix']}.{match['last']}".split(".")
        paths = sorted(path for path in self.tree if _match(pattern, path.split(".")))
        start = int(match["start"]) if match["start"] else None
        end = int(match["end"]) if match["end"] else None
        points: dict[str, dict[int, Any]] = {}
        for path in paths:
            times, values, _ = self.tree[path]
            points[path] = {int(t): v for t, v in zip(times, values)
                            if (start is None or t >= start) and (end is None or t < end)}
        timestamps = sorted(set().union(*points.values())) if points else []
        columns = [[points[path].get(t) for t in timestamps] for path in paths]
        types = [self.tree[path][2] for path in paths]
        return paths, types, np.array(timestamps, dtype=np.int64), columns, False

    def _table_query(self, statement: str):
        match = _TABLE_SELECT.match(statement.strip())
        if not match:
            return TSStatus(code=700, message=f"line 1:0 mismatched input in '{statement}'")
        table = match["table"].split(".")[-1]
        if table not in self.tables:
            return TSStatus(code=550, message=f"Table '{match['table']}' does not exist.")
        frame, schema = self.tables[table]
        wanted = [c.strip() for c in match["columns"].split(",")]
        names = list(frame.columns) if wanted == ["*"] else wanted
        unknown = [name for name in names if name not in frame.columns]
        if unknown:
            return TSStatus(code=616, message=f"Column '{unknown[0]}' cannot be resolved")
        columns = [list(frame[name].astype(object).where(frame[name].notna(), None)) for name in names]
        timestamps = np.zeros(len(frame), dtype=np.int64)  # table model: the time travels as a value column
        return names, [schema[name] for name in names], timestamps, columns, True
