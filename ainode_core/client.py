"""Python client: pandas in, pandas out, over Thrift — so it works against any AINode, ours or Apache's.

    from ainode_core.client import AINodeClient
    with AINodeClient("127.0.0.1", 10810) as node:
        forecast = node.forecast("naive_forecaster", series, output_length=12)
"""
from __future__ import annotations

import json
import os
import time
import warnings
from typing import Any, Callable, Iterable, Mapping, Sequence, Union

import numpy as np
import pandas as pd

from ainode_core.errors import AINodeError, StatusCode
from ainode_core.rpc.connection import AINodeConnection
from ainode_core.rpc.gen.ainode import ttypes as t
from ainode_core.rpc.tsblock import Column, TsBlock, TSDataType, decode_tsblock, encode_tsblock


class AINodeRequestError(AINodeError):
    """An error status from the node, with its code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code  # type: ignore[assignment]


class WrongTaskError(AINodeRequestError):
    """The model serves another task than the call's (e.g. ``forecast`` with an anomaly model); ``task`` is
    the model's, ``wanted`` the call's."""

    def __init__(self, model_id: str, task: str, wanted: str) -> None:
        super().__init__(StatusCode.INVALID_INFERENCE_CONFIG,
                         wrong_task_message(model_id, task, CLIENT_CALLS.get(task, "").format(model=model_id)))
        self.model_id, self.task, self.wanted = model_id, task, wanted


class InputWarning(UserWarning):
    """What the client assumed while reading the data: the time column, epoch units, day-first dates,
    columns left out. The same reader serves ``ainode forecast --input``, which prints these as notes."""


# The model's task in words, and the client call that serves it (the CLI has its own commands).
TASK_WORDS = {"forecast": "a forecasting", "anomaly_detection": "an anomaly-detection",
              "classification": "a classification"}
CLIENT_CALLS = {"forecast": "AINodeClient.forecast({model!r}, data, output_length=...)",
                "anomaly_detection": "AINodeClient.detect({model!r}, data)"}


def wrong_task_message(model_id: str, task: str, instead: str) -> str:
    """"gaussian_hmm is an anomaly-detection model; use `...` instead" (``instead`` empty: no such call)."""
    what = TASK_WORDS.get(task, f"a {task}")
    advice = f"use {instead} instead" if instead else "run it with CALL INFERENCE (`ainode sql`)"
    return f"{model_id} is {what} model; {advice}"


class ModelStateError(AINodeRequestError):
    """A background job (registration, fine-tuning) ended ``failed``; the message is the node's reason."""

    def __init__(self, code: int, message: str, model_id: str, state: str) -> None:
        super().__init__(code, message)
        self.model_id = model_id
        self.state = state


Progress = Callable[[str], None]
# A fine-tuning dataset: a tree path pattern, a table SQL query or a file:// URI, optionally with a
# time range [start_ms, end_ms).
Dataset = Union[str, tuple[str, Sequence[int] | None]]


def _check(status: Any) -> None:
    if status.code != StatusCode.SUCCESS:
        raise AINodeRequestError(status.code, status.message or "")


def _as_frame(data: Any) -> pd.DataFrame:
    """The caller's data as series indexed by time, read by the reader the CLI uses for its files (a path is
    read as a file); what it assumed comes back as :class:`InputWarning`."""
    from ainode_core.ingress.files import read_series
    from ainode_core.ingress.shaping import shape_series

    if isinstance(data, (str, os.PathLike)):
        series = read_series(data)
    elif isinstance(data, pd.Series):
        series = shape_series(data.to_frame(name=data.name if data.name is not None else "value"), "the data")
    elif isinstance(data, pd.DataFrame):
        series = shape_series(data, "the data")
    else:  # numpy or a list: numbers only, rows are steps
        array = np.asarray(data, dtype=float)
        if array.ndim == 1:
            array = array[:, None]
        return pd.DataFrame(array, columns=[f"value{i}" if array.shape[1] > 1 else "value"
                                            for i in range(array.shape[1])])
    for note in series.notes:
        warnings.warn(note, InputWarning, stacklevel=3)  # points at the caller's forecast()/detect() line
    return series.frame


def _encode(frame: pd.DataFrame) -> bytes:
    values = frame.to_numpy(dtype=float, na_value=np.nan)
    columns = [Column(TSDataType.DOUBLE, values[:, i], np.isnan(values[:, i])) for i in range(values.shape[1])]
    return encode_tsblock(TsBlock(np.arange(len(frame), dtype=np.int64), columns))


def future_index(index: pd.Index, horizon: int) -> pd.Index:
    """Continue the input's timestamps by its frequency (or its last step) for ``horizon`` points."""
    if isinstance(index, pd.PeriodIndex):
        return pd.period_range(index[-1] + 1, periods=horizon, freq=index.freq)
    if isinstance(index, pd.DatetimeIndex) and len(index) >= 2:
        freq = index.freq or pd.infer_freq(index) if len(index) >= 3 else None
        if freq is not None:
            return pd.date_range(index[-1], periods=horizon + 1, freq=freq)[1:]
        step = index[-1] - index[-2]
        return pd.DatetimeIndex([index[-1] + step * (i + 1) for i in range(horizon)])
    if len(index) >= 2 and pd.api.types.is_numeric_dtype(index):
        step = index[-1] - index[-2]
        return pd.Index([index[-1] + step * (i + 1) for i in range(horizon)])
    return pd.RangeIndex(len(index), len(index) + horizon)


class AINodeClient:
    def __init__(self, host: str = "127.0.0.1", port: int = 10810, *, compact: bool = False) -> None:
        self._connection = AINodeConnection(host, port, compact=compact)
        self._client = self._connection.client
        self._tasks: dict[str, str] = {}  # model id -> task, so a call in a loop costs one round trip

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> "AINodeClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- models ------------------------------------------------------------------------------------------

    def models(self, model_id: str | None = None) -> pd.DataFrame:
        response = self._client.showModels(t.TShowModelsReq(modelId=model_id))
        _check(response.status)
        ids = response.modelIdList or []
        return pd.DataFrame({
            "ModelId": ids,
            "ModelType": [response.modelTypeMap[i] for i in ids],
            "Category": [response.categoryMap[i] for i in ids],
            "State": [response.stateMap[i] for i in ids],
            # ainode extension: progress or failure reason (empty against an Apache AINode)
            "Reason": [(response.reasonMap or {}).get(i, "") for i in ids],
            "Task": [(response.taskMap or {}).get(i, "") for i in ids],
        })

    def register(self, model_id: str, uri: str, *, wait: bool = True, timeout: float = 300,
                 progress: Progress | None = None) -> str:
        """``CREATE MODEL id USING URI 'uri'``. With ``wait`` poll until the model leaves ``activating`` and
        return its state (``active`` or ``failed``; the reason is in :meth:`models`), calling ``progress``
        with the node's reason text whenever it changes."""
        response = self._client.registerModel(t.TRegisterModelReq(modelId=model_id, uri=uri))
        _check(response.status)
        if not wait:
            return "activating"
        return self._wait_state(model_id, ("activating",), timeout, progress)[0]

    def finetune(self, model_id: str, base_model_id: str, datasets: Iterable[Dataset] | Dataset, *,
                 db_type: str = "iotdb.tree", hyperparameters: Mapping[str, Any] | None = None,
                 wait: bool = True, timeout: float = 3600, progress: Progress | None = None) -> str:
        """``CREATE MODEL model_id [WITH HYPERPARAMETERS (...)] FROM MODEL base ON DATASET (...)``.

        ``datasets``: schema names (a tree path pattern such as ``root.db.**``, a table SQL query, or a
        ``file://`` URI of a CSV/Parquet/TsFile on the node's machine), each optionally paired with a time
        range ``(start_ms, end_ms)``. With ``wait`` poll until training ends, calling ``progress(reason)``
        on every change; returns the final state, raises :class:`ModelStateError` if it is ``failed``.
        """
        request = t.TTuningReq(
            dbType=db_type, modelId=model_id, existingModelId=base_model_id,
            targetDataSchema=[_data_schema(item) for item in _dataset_list(datasets)],
            parameters={str(k): str(v) for k, v in (hyperparameters or {}).items()})
        _check(self._client.createTuningTask(request))
        if not wait:
            return "training"
        state, reason = self._wait_state(model_id, ("training",), timeout, progress)
        if state == "failed":
            raise ModelStateError(StatusCode.CREATE_MODEL_ERROR,
                                  f"Fine-tuning {model_id} failed: {reason or 'no reason given'}", model_id, state)
        return state

    def model_state(self, model_id: str) -> tuple[str, str, str] | None:
        """``(state, reason, task)`` of one model from SHOW MODELS (reason and task are empty against an
        Apache AINode), or ``None`` when the node does not know it."""
        rows = self.models(model_id)
        if rows.empty:
            return None
        row = rows.iloc[0]
        return str(row["State"]), str(row["Reason"]), str(row["Task"])

    def _wait_state(self, model_id: str, busy: tuple[str, ...], timeout: float,
                    progress: Progress | None) -> tuple[str, str]:
        """Poll SHOW MODELS until ``model_id`` leaves the ``busy`` states or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        last_reason: str | None = None
        delay = 0.05
        while True:
            known = self.model_state(model_id)
            if known is None:  # dropped while we waited (or never created)
                return "missing", ""
            state, reason, _ = known
            if progress is not None and reason != last_reason:
                progress(reason)
            last_reason = reason
            if state not in busy or time.monotonic() > deadline:
                return state, reason
            time.sleep(delay)
            delay = min(delay * 2, 0.5)  # quick for fast jobs, gentle on the node for long ones

    def _require_task(self, model_id: str, wanted: str) -> None:
        """Refuse a model of another task before sending it data: its answer would not fit the call (labels
        read as a forecast, or a forecast read as labels). An unknown model is left to the node (1504)."""
        task = self._tasks.get(model_id)
        if task is None:
            known = self.model_state(model_id)
            task = known[2] if known is not None else ""
            if task:  # a model's task changes only if it is dropped and re-created: DROP here forgets it
                self._tasks[model_id] = task
        if task and task != wanted:
            raise WrongTaskError(model_id, task, wanted)

    def drop(self, model_id: str) -> None:
        self._tasks.pop(model_id, None)
        _check(self._client.deleteModel(t.TDeleteModelReq(modelId=model_id)))

    def load(self, model_id: str, devices: list[str] | str = "cpu") -> None:
        devices = devices.split(",") if isinstance(devices, str) else devices
        _check(self._client.loadModel(t.TLoadModelReq(existingModelId=model_id, deviceIdList=list(devices))))

    def unload(self, model_id: str, devices: list[str] | str = "cpu") -> None:
        devices = devices.split(",") if isinstance(devices, str) else devices
        _check(self._client.unloadModel(t.TUnloadModelReq(modelId=model_id, deviceIdList=list(devices))))

    def devices(self) -> dict[str, str]:
        response = self._client.showAIDevices()
        _check(response.status)
        return dict(response.deviceIdMap)

    def loaded(self, devices: list[str] | None = None) -> dict[str, dict[str, int]]:
        response = self._client.showLoadedModels(t.TShowLoadedModelsReq(deviceIdList=list(devices or [])))
        _check(response.status)
        return {device: dict(models) for device, models in response.deviceLoadedModelsMap.items()}

    # --- inference ---------------------------------------------------------------------------------------

    def forecast(self, model_id: str, data: Any, output_length: int, *, quantiles: list[float] | None = None,
                 past_covariates: Mapping[str, Any] | None = None,
                 future_covariates: Mapping[str, Any] | None = None, **options: Any) -> pd.DataFrame:
        """Forecast every column of ``data`` (Series, DataFrame, array, or the path of a CSV/Parquet/TsFile)
        ``output_length`` steps ahead.

        Returns a DataFrame indexed by the continued timestamps, one column per target; with ``quantiles``
        also ``<target>_q<level>`` columns (for models that return quantiles). An anomaly model raises
        :class:`WrongTaskError` (use :meth:`detect`).
        """
        frame = _as_frame(data)
        self._require_task(model_id, "forecast")
        wire_options = {key: str(value) for key, value in options.items()}
        if quantiles:
            wire_options["quantiles"] = ",".join(str(q) for q in quantiles)
        request = t.TForecastReq(
            modelId=model_id, inputData=_encode(frame), outputLength=int(output_length),
            historyCovs=_covariates_json(past_covariates), futureCovs=_covariates_json(future_covariates),
            options=wire_options)
        response = self._client.forecast(request)
        _check(response.status)
        values = decode_tsblock(response.forecastResult[0]).to_matrix()
        names = list(map(str, frame.columns))
        # Quantile rows come level-major (row k*C + c = target c at the k-th level), as the pipelines send them.
        quantile_names = [f"{name}_q{q:g}" for q in quantiles or [] for name in names]
        if quantiles and values.shape[0] == len(quantile_names):  # quantiles only
            names = quantile_names
        elif quantiles and values.shape[0] == len(names) + len(quantile_names):  # point forecast, then quantiles
            names = names + quantile_names
        return pd.DataFrame(values.T, index=future_index(frame.index, output_length), columns=names[:values.shape[0]])

    def detect(self, model_id: str, data: Any, **options: Any) -> pd.DataFrame:
        """Anomaly detection: one label/flag per input row and column, indexed like ``data`` (read as in
        :meth:`forecast`). A forecasting model raises :class:`WrongTaskError` (use :meth:`forecast`)."""
        frame = _as_frame(data)
        self._require_task(model_id, "anomaly_detection")
        options.setdefault("outputLength", len(frame))  # the node labels the first outputLength rows
        values = self._inference_matrix(model_id, frame, options)
        return pd.DataFrame(values.T, index=frame.index, columns=list(map(str, frame.columns)))

    def inference(self, model_id: str, data: Any, **attributes: Any) -> np.ndarray:
        """The tree model's ``CALL INFERENCE(model, sql, k=v...)`` over Thrift ``inference``: returns the
        model's raw output ``[rows, columns]``: ``outputLength`` rows (default 96) — the forecast, or an
        anomaly model's labels of the first ``outputLength`` input rows."""
        return self._inference_matrix(model_id, _as_frame(data), attributes).T

    def _inference_matrix(self, model_id: str, frame: pd.DataFrame, attributes: Mapping[str, Any]) -> np.ndarray:
        request = t.TInferenceReq(modelId=model_id, dataset=_encode(frame),
                                  inferenceAttributes={k: str(v) for k, v in attributes.items()})
        response = self._client.inference(request)
        _check(response.status)
        return decode_tsblock(response.inferenceResult[0]).to_matrix()


def _dataset_list(datasets: Iterable[Dataset] | Dataset) -> list[Dataset]:
    # A lone string or a lone (name, range) pair is one dataset, not a sequence of them.
    if isinstance(datasets, str):
        return [datasets]
    if isinstance(datasets, tuple) and len(datasets) == 2 and isinstance(datasets[0], str) \
            and (datasets[1] is None or not isinstance(datasets[1], str)):
        return [datasets]
    return list(datasets)


def _data_schema(item: Dataset) -> t.IDataSchema:
    if isinstance(item, str):
        return t.IDataSchema(schemaName=item)
    name, time_range = item
    if time_range is None:
        return t.IDataSchema(schemaName=str(name))
    start, end = (int(v) for v in time_range)
    return t.IDataSchema(schemaName=str(name), timeRange=[start, end])


def _covariates_json(covariates: Mapping[str, Any] | None) -> str | None:
    if not covariates:
        return None
    return json.dumps({name: [None if np.isnan(v) else float(v) for v in np.asarray(values, dtype=float)]
                       for name, values in covariates.items()})
