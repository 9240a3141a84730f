"""Errors that carry an IoTDB status code (contract section 3).

Every failure a user can cause is raised as an :class:`AINodeError` subclass; the Thrift handler turns it
into a ``TSStatus`` with the code and the message, so a SQL user sees ``"<code>: <message>"``.
"""
from __future__ import annotations

from enum import IntEnum


class StatusCode(IntEnum):
    SUCCESS = 200
    REDIRECTION_RECOMMEND = 400
    REJECT_NODE_START = 1002  # ConfigNode: restart refused (unknown node id, other cluster)
    CONFIG_NODE_LEADER_WARMING_UP = 1014  # ConfigNode (2.0.11): ask again shortly
    REGISTER_AI_NODE_ERROR = 1501  # ConfigNode: e.g. there is already one AINode in the cluster
    MODEL_EXISTED_ERROR = 1503
    MODEL_NOT_EXIST_ERROR = 1504
    CREATE_MODEL_ERROR = 1505
    DROP_BUILTIN_MODEL_ERROR = 1506
    DROP_MODEL_ERROR = 1507
    UNAVAILABLE_AI_DEVICE_ERROR = 1508
    LOAD_MODEL_ERROR = 1509
    UNLOAD_MODEL_ERROR = 1510
    INVALID_URI_ERROR = 1511
    INVALID_INFERENCE_CONFIG = 1512
    INFERENCE_INTERNAL_ERROR = 1520
    INFERENCE_OVERLOAD_ERROR = 1521
    AINODE_INTERNAL_ERROR = 1599


class AINodeError(Exception):
    """Base of every error with a status code. The message must say what the user should change."""

    code: StatusCode = StatusCode.AINODE_INTERNAL_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ModelExistedError(AINodeError):
    code = StatusCode.MODEL_EXISTED_ERROR

    def __init__(self, model_id: str) -> None:
        super().__init__(f"Model [{model_id}] already exists. Pick another model id or DROP MODEL {model_id} first.")


class ModelNotExistError(AINodeError):
    code = StatusCode.MODEL_NOT_EXIST_ERROR

    def __init__(self, model_id: str, *, for_drop: bool = False) -> None:
        if for_drop:
            message = f"Model {model_id} does not exist"
        else:
            message = (
                f"Model [{model_id}] is not registered yet. "
                "You can use 'SHOW MODELS' to retrieve the available models."
            )
        super().__init__(message)


class CreateModelError(AINodeError):
    code = StatusCode.CREATE_MODEL_ERROR


class DropBuiltinModelError(AINodeError):
    code = StatusCode.DROP_BUILTIN_MODEL_ERROR

    def __init__(self, model_id: str) -> None:
        super().__init__(f"Cannot delete built-in model: {model_id}")


class DropModelError(AINodeError):
    code = StatusCode.DROP_MODEL_ERROR


class UnavailableDeviceError(AINodeError):
    code = StatusCode.UNAVAILABLE_AI_DEVICE_ERROR

    def __init__(self, device_id: str) -> None:
        super().__init__(
            f"AIDevice ID [{device_id}] is not available. "
            "You can use 'SHOW AI_DEVICES' to retrieve the available devices."
        )


class LoadModelError(AINodeError):
    code = StatusCode.LOAD_MODEL_ERROR


class UnloadModelError(AINodeError):
    code = StatusCode.UNLOAD_MODEL_ERROR


class InvalidURIError(AINodeError):
    """A URI CREATE MODEL cannot use. IoTDB's AINode answers these with 1505, not 1511: so do we."""

    code = StatusCode.CREATE_MODEL_ERROR


class InvalidInferenceConfigError(AINodeError):
    """Bad options, bad shapes, bad output length: anything about the request the caller can fix."""

    code = StatusCode.INVALID_INFERENCE_CONFIG


class InferenceInternalError(AINodeError):
    code = StatusCode.INFERENCE_INTERNAL_ERROR


class InferenceOverloadError(AINodeError):
    code = StatusCode.INFERENCE_OVERLOAD_ERROR


class ModelNotReadyError(InferenceInternalError):
    """The model exists but cannot serve yet (weights missing, still activating, failed)."""


class ConfigError(AINodeError):
    """A bad value in iotdb-ainode.properties: the message names the key, the file and what is allowed."""


class PluginError(AINodeError):
    """A plugin could not be loaded or registered (raised only in strict mode)."""
