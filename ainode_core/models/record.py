"""What the catalog knows about one model (a row of SHOW MODELS, plus why it is in that state)."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from ainode_core.errors import InvalidURIError


class Category(str, Enum):
    BUILTIN = "builtin"
    USER_DEFINED = "user_defined"
    FINE_TUNED = "fine_tuned"


class State(str, Enum):
    INACTIVE = "inactive"
    ACTIVATING = "activating"
    ACTIVE = "active"
    TRAINING = "training"
    FAILED = "failed"
    DROPPING = "dropping"


MODEL_ID_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]{1,63}")  # used with fullmatch: "$" would admit a final "\n"


def validate_model_id(model_id: str) -> str:
    """The contract's rule: letters, digits and '_', not starting with a digit or '_', 2-64 characters."""
    if not isinstance(model_id, str) or not MODEL_ID_PATTERN.fullmatch(model_id):
        from ainode_core.errors import CreateModelError

        raise CreateModelError(
            f"Invalid model id {model_id!r}: use 2-64 letters, digits or '_', starting with a letter."
        )
    return model_id


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class ModelRecord:
    model_id: str
    model_type: str
    category: Category
    state: State
    task: str = "forecast"
    reason: str = ""
    source: str = ""
    plugin: str = ""
    created_at: str = field(default_factory=_now)
    base_model: str | None = None
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["category"] = self.category.value
        data["state"] = self.state.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ModelRecord":
        known = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        known["category"] = Category(known["category"])
        known["state"] = State(known["state"])
        return cls(**known)


def parse_uri_scheme(uri: str) -> tuple[str, str]:
    """``file:///x`` → ("file", "/x"); a bare path counts as file."""
    if "://" not in uri:
        if uri.startswith("/"):
            return "file", uri
        raise InvalidURIError(f"Invalid URI {uri!r}: use file:///absolute/folder or hf://org/repo")
    scheme, rest = uri.split("://", 1)
    return scheme.lower(), rest
