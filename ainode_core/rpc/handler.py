"""The Thrift handler: every IAINodeRPCService method, mapped onto the node.

Each method turns its request into node calls and every :class:`AINodeError` into a ``TSStatus`` with the
contract's code and message; anything unexpected becomes 1599 with the exception text (and a log entry with
the traceback) — a caller never sees a Thrift exception and the connection stays usable.

The inference methods answer the way IoTDB's own AINode does, because a DataNode shows their status to SQL
users verbatim (``1599: Error occurred while executing forecast:[<message>]``) and IoTDB's tests compare
it: an unknown model is 1504, every other failure 1599 with our message.
"""
from __future__ import annotations

import functools
import logging
import threading
from typing import Any, Callable

import numpy as np

from ainode_core.errors import (
    AINodeError,
    InvalidInferenceConfigError,
    StatusCode,
)
from ainode_core.inference.requests_parsing import DEFAULT_OUTPUT_LENGTH, parse_covariates, parse_output_length
from ainode_core.node import AINode
from ainode_core.rpc.gen.ainode import IAINodeRPCService
from ainode_core.rpc.gen.ainode import ttypes as t
from ainode_core.rpc.gen.common.ttypes import TLoadSample, TSStatus
from ainode_core.rpc.iotdb_versions import accept_all_forecast_request_versions
from ainode_core.rpc.tsblock import decode_tsblock, encode_values

log = logging.getLogger(__name__)
accept_all_forecast_request_versions()

SUCCESS = TSStatus(code=StatusCode.SUCCESS, message="")


def status_of(exc: AINodeError) -> TSStatus:
    return TSStatus(code=int(exc.code), message=exc.message)


def answers(response: Callable[[TSStatus], Any]) -> Callable:
    """Decorator: run the method; on error, answer ``response(status)`` instead of raising."""

    def wrap(method: Callable) -> Callable:
        @functools.wraps(method)
        def safe(self: "AINodeHandler", *args: Any) -> Any:
            try:
                return method(self, *args)
            except AINodeError as exc:
                log.info("%s: %s %s", method.__name__, int(exc.code), exc.message)
                return response(status_of(exc))
            except Exception as exc:  # a bug must not take the connection or the node down
                log.exception("%s failed", method.__name__)
                return response(TSStatus(code=StatusCode.AINODE_INTERNAL_ERROR,
                                         message=f"{type(exc).__name__}: {exc}"))
        safe.failure_response = response  # type: ignore[attr-defined]  # the server answers refused calls with it
        return safe
    return wrap


def _status(status: TSStatus) -> TSStatus:
    return status


def as_iotdb_inference_status(response: Callable[[TSStatus], Any]) -> Callable[[TSStatus], Any]:
    """IoTDB's AINode answers 1504 for an unknown model and 1599 for anything else that goes wrong while
    running inference; the message (ours, which says what to change) is kept."""

    def answer(status: TSStatus) -> Any:
        if status.code != StatusCode.MODEL_NOT_EXIST_ERROR:
            status = TSStatus(code=StatusCode.AINODE_INTERNAL_ERROR, message=status.message)
        return response(status)
    return answer


class AINodeHandler:
    def __init__(self, node: AINode) -> None:
        self.node = node
        self.on_stop: Callable[[], None] = lambda: None
        from ainode_core.cluster.load import LoadSampler

        self.load = LoadSampler(node.settings.ain_system_dir)

    def processor(self) -> IAINodeRPCService.Processor:
        return IAINodeRPCService.Processor(self)

    # --- node ----------------------------------------------------------------------------------------

    def stopAINode(self) -> TSStatus:
        threading.Timer(0.1, self.on_stop).start()  # answer first, then stop
        return SUCCESS

    def getAIHeartbeat(self, req: t.TAIHeartbeatReq) -> t.TAIHeartbeatResp:
        response = t.TAIHeartbeatResp(heartbeatTimestamp=req.heartbeatTimestamp if req else 0, status="Running")
        if req is not None and req.needSamplingLoad:
            sample = self.load.latest
            response.loadSample = TLoadSample(cpuUsageRate=sample.cpu_percent,
                                              memoryUsageRate=sample.memory_percent,
                                              diskUsageRate=sample.disk_percent,
                                              freeDiskSpace=sample.free_disk_gib)
        return response

    @answers(lambda status: t.TShowAIDevicesResp(status=status, deviceIdMap={}))
    def showAIDevices(self) -> t.TShowAIDevicesResp:
        devices = self.node.engine.devices()
        return t.TShowAIDevicesResp(status=SUCCESS,
                                    deviceIdMap={d.device_id: d.device_type for d in devices.values()})

    # --- catalog -------------------------------------------------------------------------------------

    @answers(lambda status: t.TShowModelsResp(status=status))
    def showModels(self, req: t.TShowModelsReq) -> t.TShowModelsResp:
        records = self.node.catalog.list()
        if req is not None and req.modelId:
            records = [r for r in records if r.model_id == req.modelId]
        return t.TShowModelsResp(
            status=SUCCESS,
            modelIdList=[r.model_id for r in records],
            modelTypeMap={r.model_id: r.model_type for r in records},
            categoryMap={r.model_id: r.category.value for r in records},
            stateMap={r.model_id: r.state.value for r in records},
            reasonMap={r.model_id: r.reason for r in records if r.reason},
            taskMap={r.model_id: r.task for r in records},
        )

    @answers(_status)
    def deleteModel(self, req: t.TDeleteModelReq) -> TSStatus:
        self.node.models.drop(req.modelId)
        return SUCCESS

    @answers(lambda status: t.TRegisterModelResp(status=status))
    def registerModel(self, req: t.TRegisterModelReq) -> t.TRegisterModelResp:
        self.node.models.register(req.modelId, req.uri)
        return t.TRegisterModelResp(status=SUCCESS)

    @answers(_status)
    def createTuningTask(self, req: t.TTuningReq) -> TSStatus:
        self.node.models.finetune(req)
        return SUCCESS

    # --- placement -----------------------------------------------------------------------------------

    @answers(lambda status: t.TShowLoadedModelsResp(status=status, deviceLoadedModelsMap={}))
    def showLoadedModels(self, req: t.TShowLoadedModelsReq) -> t.TShowLoadedModelsResp:
        wanted = list(req.deviceIdList or []) if req is not None else []
        loaded = self.node.placement.loaded(wanted)
        return t.TShowLoadedModelsResp(status=SUCCESS, deviceLoadedModelsMap=loaded)

    @answers(_status)
    def loadModel(self, req: t.TLoadModelReq) -> TSStatus:
        self.node.placement.load(req.existingModelId, list(req.deviceIdList or []))
        return SUCCESS

    @answers(_status)
    def unloadModel(self, req: t.TUnloadModelReq) -> TSStatus:
        self.node.placement.unload(req.modelId, list(req.deviceIdList or []))
        return SUCCESS

    # --- inference -----------------------------------------------------------------------------------

    def _targets(self, data: bytes | None) -> np.ndarray:
        if not data:
            raise InvalidInferenceConfigError("The request carries no input data (empty TsBlock).")
        limit_mb = self.node.settings.ain_inference_max_input_size_in_mb
        block = decode_tsblock(data, max_decoded_bytes=limit_mb * 2**20,
                               limit_hint=", or raise ain_inference_max_input_size_in_mb")
        if block.column_count == 0 or block.row_count == 0:
            raise InvalidInferenceConfigError(
                f"The input has {block.column_count} value columns and {block.row_count} rows; "
                "select at least one value column and one row.")
        return block.to_matrix()

    @answers(as_iotdb_inference_status(lambda status: t.TInferenceResp(status=status, inferenceResult=[])))
    def inference(self, req: t.TInferenceReq) -> t.TInferenceResp:
        """Tree model ``CALL INFERENCE``: ``outputLength`` rows back (default 96), for every task: forecast
        models forecast that far, anomaly models label the first ``outputLength`` input rows."""
        record = self.node.catalog.get(req.modelId)
        options: dict[str, Any] = dict(req.inferenceAttributes or {})
        length_text = options.pop("outputLength", options.pop("output_length", DEFAULT_OUTPUT_LENGTH))
        targets = self._targets(req.dataset)
        options["output_length"] = parse_output_length(
            length_text, self.node.settings.ain_inference_max_output_length)
        outputs = self.node.engine.infer(record.model_id, [{"targets": targets}], options)
        return t.TInferenceResp(status=SUCCESS, inferenceResult=[encode_values(o) for o in outputs])

    @answers(as_iotdb_inference_status(lambda status: t.TForecastResp(status=status, forecastResult=[])))
    def forecast(self, req: t.TForecastReq) -> t.TForecastResp:
        """Table model ``FORECAST``: one TsBlock in, one TsBlock of ``outputLength`` rows out."""
        # Any task, as IoTDB's node answers it (its own test runs FORECAST on every built-in): an anomaly
        # model labels the first outputLength rows.
        self.node.catalog.get(req.modelId)
        options: dict[str, Any] = dict(req.options or {})
        options["output_length"] = parse_output_length(
            req.outputLength, self.node.settings.ain_inference_max_output_length)
        series = {
            "targets": self._targets(req.inputData),
            "past_covariates": parse_covariates(req.historyCovs, "historyCovs"),
            "future_covariates": parse_covariates(req.futureCovs, "futureCovs"),
        }
        outputs = self.node.engine.infer(req.modelId, [series], options)
        return t.TForecastResp(status=SUCCESS, forecastResult=[encode_values(outputs[0])])

    @answers(as_iotdb_inference_status(lambda status: t.TClassifyResp(status=status, classifyResult=[])))
    def classify(self, req: t.TClassifyReq) -> t.TClassifyResp:
        record = self.node.catalog.get(req.modelId)
        if record.task != "classification":
            raise InvalidInferenceConfigError(
                f"Model {record.model_id} is a {record.task} model; classify needs a classification model.")
        outputs = self.node.engine.infer(record.model_id, [{"targets": self._targets(req.inputData)}],
                                         dict(req.options or {}))
        return t.TClassifyResp(status=SUCCESS, classifyResult=[encode_values(o) for o in outputs])
