"""CREATE MODEL new FROM MODEL base ON DATASET: validation now; training runs where the model type supports it."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ainode_core.errors import CreateModelError, ModelExistedError
from ainode_core.models.record import validate_model_id

if TYPE_CHECKING:  # pragma: no cover
    from ainode_core.models.manager import ModelManager


def start_tuning(manager: "ModelManager", request: Any) -> None:
    validate_model_id(request.modelId)
    base = manager.catalog.get(request.existingModelId)
    if request.modelId in manager.catalog:
        raise ModelExistedError(request.modelId)
    spec = manager.catalog.spec_for(base)
    if spec is None or spec.finetune is None:
        raise CreateModelError(
            f"Model {base.model_id} (model_type {base.model_type}) does not support fine-tuning on this node.")
    raise CreateModelError(
        f"Fine-tuning {base.model_type} models is not available in this version of ainode yet.")
