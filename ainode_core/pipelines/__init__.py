"""Base pipelines: what every model plugin subclasses (one per task)."""
from ainode_core.pipelines.base import (
    AnomalyDetectionPipeline,
    ClassificationPipeline,
    ForecastPipeline,
    ModelInfo,
    Pipeline,
)

__all__ = ["AnomalyDetectionPipeline", "ClassificationPipeline", "ForecastPipeline", "ModelInfo", "Pipeline"]
