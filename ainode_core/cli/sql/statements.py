"""Parsed statements as plain dataclasses (what the executor runs), built from lark's trees."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lark import Token, Transformer

from ainode_core.cli.inputs import UsageError, parse_time
from ainode_core.cli.sql.grammar import KEYWORDS


@dataclass(frozen=True)
class ShowModels:
    model_id: str | None = None


@dataclass(frozen=True)
class ShowDevices:
    pass


@dataclass(frozen=True)
class ShowLoaded:
    devices: tuple[str, ...] = ()


@dataclass(frozen=True)
class CreateFromUri:
    model_id: str
    uri: str


@dataclass(frozen=True)
class Dataset:
    schema_name: str  # tree path pattern, table query, or file:// URI
    time_range: tuple[int, int] | None = None  # [start, end) in epoch ms
    is_path: bool = False


@dataclass(frozen=True)
class CreateFineTuned:
    model_id: str
    base_model_id: str
    datasets: tuple[Dataset, ...]
    hyperparameters: dict[str, Any] = field(default_factory=dict)

    @property
    def db_type(self) -> str:
        """PATH datasets are the tree model's; quoted queries the table model's (IoTDB's two grammars)."""
        return "iotdb.tree" if all(d.is_path for d in self.datasets) else "iotdb.table"


@dataclass(frozen=True)
class DropModel:
    model_id: str


@dataclass(frozen=True)
class LoadModel:
    model_id: str
    devices: tuple[str, ...]


@dataclass(frozen=True)
class UnloadModel:
    model_id: str
    devices: tuple[str, ...]


@dataclass(frozen=True)
class CallInference:
    model_id: str
    query: str
    query_position: tuple[int, int]  # line, column of the query's opening quote (for error carets)
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LocalSelect:
    """``SELECT cols FROM 'file' [WHERE time ...] [LIMIT n]`` — CALL INFERENCE's input in standalone mode."""
    source: str
    columns: tuple[str, ...] | None  # None = every numeric column
    start: int | None = None  # inclusive, epoch ms
    end: int | None = None    # exclusive, epoch ms
    limit: int | None = None


class Quoted(str):
    """A string literal's text, remembering where its opening quote stood (line, column; 1-based)."""

    line: int = 1
    column: int = 1


def unquote(token: Token) -> Quoted:
    """``'it''s'`` → ``it's`` (IoTDB doubles a quote to escape it)."""
    quote = token[0]
    text = Quoted(token[1:-1].replace(quote * 2, quote))
    text.line, text.column = token.line or 1, token.column or 1
    return text


class ToStatement(Transformer):
    """lark tree → statement dataclass. Keyword tokens are dropped; values keep their case."""

    # --- leaves ----------------------------------------------------------------------------------------
    def model_id(self, children: list[Token]) -> str:
        token = children[0]
        return token[1:-1] if token.type == "QUOTED_ID" else str(token)

    def string(self, children: list[Token]) -> Quoted:
        return unquote(children[0])

    def number(self, children: list[Token]) -> int | float:
        text = str(children[0])
        try:
            return int(text)
        except ValueError:
            return float(text)

    def word(self, children: list[Token]) -> str:
        return str(children[0])

    def pair(self, children: list[Any]) -> tuple[str, Any]:
        return str(children[0]), children[1]

    def epoch_ms(self, children: list[Token]) -> int:
        return int(children[0])

    def datetime(self, children: list[Any]) -> int:
        try:
            return parse_time(str(children[0]))
        except UsageError as exc:
            raise ValueError(str(exc)) from None

    def device_list(self, children: list[Any]) -> tuple[str, ...]:
        if len(children) == 1 and not isinstance(children[0], Token):  # one quoted 'cpu,0'
            return tuple(part.strip() for part in children[0].split(",") if part.strip())
        return tuple(str(child) for child in children)

    def _keep(self, children: list[Any]) -> list[Any]:
        return [c for c in children if not (isinstance(c, Token) and c.type in _KEYWORD_TYPES)]

    # --- statements ------------------------------------------------------------------------------------
    def statement(self, children: list[Any]) -> Any:
        return children[0]

    def show_models(self, children: list[Any]) -> ShowModels:
        return ShowModels(*self._keep(children))

    def show_devices(self, children: list[Any]) -> ShowDevices:
        return ShowDevices()

    def show_loaded(self, children: list[Any]) -> ShowLoaded:
        (devices,) = self._keep(children)
        return ShowLoaded(devices or ())

    def create_uri(self, children: list[Any]) -> CreateFromUri:
        return CreateFromUri(*self._keep(children))

    def hyperparameters(self, children: list[Any]) -> dict[str, Any]:
        return dict(self._keep(children))

    def create_tuned(self, children: list[Any]) -> CreateFineTuned:
        model_id, hyperparameters, base, *datasets = self._keep(children)
        return CreateFineTuned(model_id, base, tuple(datasets), hyperparameters or {})

    def query_dataset(self, children: list[Any]) -> Dataset:
        return Dataset(children[0])

    def path_dataset(self, children: list[Any]) -> Dataset:
        path, time_range = self._keep(children)
        return Dataset(str(path), time_range, is_path=True)

    def closed_open(self, children: list[int]) -> tuple[int, int]:
        return children[0], children[1]

    def open_closed(self, children: list[int]) -> tuple[int, int]:
        return children[0] + 1, children[1] + 1  # (a, b] on integer milliseconds is [a+1, b+1)

    def drop_model(self, children: list[Any]) -> DropModel:
        return DropModel(*self._keep(children))

    def load_model(self, children: list[Any]) -> LoadModel:
        return LoadModel(*self._keep(children))

    def unload_model(self, children: list[Any]) -> UnloadModel:
        return UnloadModel(*self._keep(children))

    def call_inference(self, children: list[Any]) -> CallInference:
        model_id, query, *pairs = self._keep(children)
        return CallInference(model_id, str(query), (query.line, query.column), dict(pairs))

    # --- the local SELECT ------------------------------------------------------------------------------
    def local_select(self, children: list[Any]) -> LocalSelect:
        columns, source, where, limit = self._keep(children)
        start, end = where or (None, None)
        return LocalSelect(source, columns, start, end, limit)

    def all_columns(self, children: list[Any]) -> None:
        return None

    def columns(self, children: list[Token]) -> tuple[str, ...]:
        return tuple(c[1:-1] if c.type == "QUOTED_ID" else str(c) for c in children)

    def where(self, children: list[Any]) -> tuple[int | None, int | None]:
        """Conditions joined by AND: the window is the tightest of their bounds."""
        conditions = self._keep(children)
        lows = [low for low, _ in conditions if low is not None]
        highs = [high for _, high in conditions if high is not None]
        return (max(lows) if lows else None), (min(highs) if highs else None)

    def time_then_value(self, children: list[Any]) -> tuple[int | None, int | None]:
        return _bounds(str(children[1]), children[2])

    def value_then_time(self, children: list[Any]) -> tuple[int | None, int | None]:
        flipped = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "=": "="}[str(children[1])]
        return _bounds(flipped, children[0])

    def limit(self, children: list[Any]) -> int:
        return int(self._keep(children)[0])


def _bounds(operator: str, value: int) -> tuple[int | None, int | None]:
    """``time <op> value`` as a half-open [start, end) window on integer milliseconds."""
    return {">=": (value, None), ">": (value + 1, None), "<": (None, value), "<=": (None, value + 1),
            "=": (value, value + 1)}[operator]


_KEYWORD_TYPES = frozenset(KEYWORDS)
