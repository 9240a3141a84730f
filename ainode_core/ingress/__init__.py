"""Data sources: where fine-tuning datasets and CLI inputs come from (files, IoTDB tree and table models)."""
from ainode_core.ingress.files import read_frame
from ainode_core.ingress.sources import read_dataset

__all__ = ["read_frame", "read_dataset"]
