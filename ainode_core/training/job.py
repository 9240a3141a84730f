"""What a fine-tuning process needs to know, written as JSON next to its output so the job is inspectable."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ainode_core.pipelines.base import ModelInfo


@dataclass
class TrainingJob:
    model_id: str
    base: dict[str, Any]  # the base's ModelInfo as plain values
    home: str  # the node home: the process reads the same settings (IoTDB ingress address, ...)
    db_type: str
    schemas: list[tuple[str, list[int] | None]]
    params: dict[str, Any]
    device: str
    output_dir: str
    type_folder: str | None = None  # a user model folder that defines the base's model_type
    folder_model_id: str = ""  # the user model that folder belongs to

    def base_info(self) -> ModelInfo:
        base = dict(self.base)
        base["path"] = Path(base["path"]) if base.get("path") else None
        return ModelInfo(**base)

    @staticmethod
    def info_as_dict(info: ModelInfo) -> dict[str, Any]:
        return {"model_id": info.model_id, "model_type": info.model_type, "category": info.category,
                "task": info.task, "path": str(info.path) if info.path else None, "config": dict(info.config)}

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, default=str), "utf-8")

    @classmethod
    def read(cls, path: Path) -> "TrainingJob":
        data = json.loads(Path(path).read_text("utf-8"))
        data["schemas"] = [(name, rng) for name, rng in data["schemas"]]
        return cls(**data)
