"""Running parsed statements against the node and printing what IoTDB's CLI would print.

Tables use IoTDB's column names; DDL prints ``Msg: The statement is executed successfully.``; an error
status from the node prints ``Msg: <code>: <message>``, the text IoTDB's CLI shows.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Callable, TextIO

import pandas as pd

from ainode_core.cli.output import print_table
from ainode_core.cli.sql import statements as st
from ainode_core.cli.sql.parse import SqlSyntaxError
from ainode_core.cli.sql.queries import IoTDBTarget, QueryError, is_local_select, run_iotdb, run_local

SUCCESS = "Msg: The statement is executed successfully."


class StatementError(Exception):
    """A statement that failed: ``code`` is IoTDB's status code, the message says why."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class Executor:
    client: Any  # an AINodeClient
    iotdb: IoTDBTarget | None = None
    out: TextIO = field(default_factory=lambda: sys.stdout)

    def execute(self, statement: Any) -> None:
        from thrift.transport.TTransport import TTransportException

        from ainode_core.client import AINodeRequestError

        handler: Callable[[Any], None] = getattr(self, "_" + type(statement).__name__)
        try:
            handler(statement)
        except AINodeRequestError as exc:
            raise StatementError(int(exc.code), exc.message) from None
        except TTransportException as exc:  # the node went away mid-session
            raise StatementError(1599, f"lost the connection to the node: {exc}") from None

    def _print(self, text: str) -> None:
        print(text, file=self.out)

    # --- SHOW ------------------------------------------------------------------------------------------
    def _ShowModels(self, statement: st.ShowModels) -> None:
        frame = self.client.models(statement.model_id)
        columns = ["ModelId", "ModelType", "Category", "State"]
        print_table(columns, frame[columns].itertuples(index=False), file=self.out)

    def _ShowDevices(self, statement: st.ShowDevices) -> None:
        print_table(["DeviceId", "DeviceType"], list(self.client.devices().items()), file=self.out)

    def _ShowLoaded(self, statement: st.ShowLoaded) -> None:
        loaded = self.client.loaded(list(statement.devices) or None)
        rows = [(device, model, count) for device, models in loaded.items()
                for model, count in sorted(models.items())]
        print_table(["DeviceId", "ModelId", "Count(instances)"], rows, file=self.out)

    # --- DDL (asynchronous on the node, as in IoTDB: SHOW MODELS / SHOW LOADED MODELS follow it) --------
    def _CreateFromUri(self, statement: st.CreateFromUri) -> None:
        self.client.register(statement.model_id, statement.uri, wait=False)
        self._print(SUCCESS)

    def _CreateFineTuned(self, statement: st.CreateFineTuned) -> None:
        datasets = [(d.schema_name, d.time_range) for d in statement.datasets]
        self.client.finetune(statement.model_id, statement.base_model_id, datasets, db_type=statement.db_type,
                             hyperparameters=statement.hyperparameters, wait=False)
        self._print(SUCCESS)

    def _DropModel(self, statement: st.DropModel) -> None:
        self.client.drop(statement.model_id)
        self._print(SUCCESS)

    def _LoadModel(self, statement: st.LoadModel) -> None:
        self.client.load(statement.model_id, list(statement.devices))
        self._print(SUCCESS)

    def _UnloadModel(self, statement: st.UnloadModel) -> None:
        self.client.unload(statement.model_id, list(statement.devices))
        self._print(SUCCESS)

    # --- CALL INFERENCE --------------------------------------------------------------------------------
    def _CallInference(self, statement: st.CallInference) -> None:
        frame = self._input(statement.query)
        attributes = {key: _wire(value) for key, value in statement.attributes.items()}
        values = self.client.inference(statement.model_id, frame, **attributes)  # [rows, columns]
        index = self._output_index(statement, frame, values.shape[0])
        names = ["output"] if values.shape[1] == 1 else [f"output{i}" for i in range(values.shape[1])]
        from ainode_core.cli.frames import print_frame

        print_frame(pd.DataFrame(values, index=index, columns=names), file=self.out)

    def _input(self, query: str) -> pd.DataFrame:
        try:
            if is_local_select(query):
                return run_local(query)
            if self.iotdb is not None:
                return run_iotdb(query, self.iotdb)
        except QueryError as exc:
            raise StatementError(1599 if self.iotdb else 1512, str(exc)) from None
        except SqlSyntaxError:
            raise  # the shell places it inside the statement
        except Exception as exc:  # the file reader's own errors carry a code and a message
            code = int(getattr(exc, "code", 1512))
            raise StatementError(code, getattr(exc, "message", str(exc))) from None
        raise StatementError(
            1512, f"the query {query!r} reads IoTDB data; give --iotdb host:port of a DataNode, or select from a "
                  "local file: select s1, s2 from 'data.csv' [where time >= A and time < B] [limit n]")

    def _output_index(self, statement: st.CallInference, frame: pd.DataFrame, rows: int) -> pd.Index:
        """Anomaly models label the first ``outputLength`` input rows (their times); forecast models continue
        the times."""
        from ainode_core.client import future_index

        if self._task(statement.model_id) != "forecast" and rows <= len(frame):
            return frame.index[:rows]
        return future_index(frame.index, rows)

    def _task(self, model_id: str) -> str:
        """The model's task as the node reports it (ainode's SHOW MODELS extension); an Apache AINode does
        not report it, and then a forecast is assumed."""
        rows = self.client.models(model_id)
        task = str(rows["Task"].iloc[0]) if not rows.empty else ""
        return task or "forecast"


def _wire(value: Any) -> str:
    """Attribute values as IoTDB sends them: text; booleans in lower case."""
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower()
    return str(value)
