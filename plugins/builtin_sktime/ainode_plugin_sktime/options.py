"""Model options: parsing SQL strings, checking them against what a model allows, merging with defaults.

Options reach a pipeline two ways: the model's defaults (``ModelInfo.config``, from ``configs/<id>.json``)
and the request's options (``infer_kwargs``). SQL sends every value as a string (``order="(2,1,1)"``,
``sp="24"``, ``include_mean="true"``); Python callers send values. Both go through :func:`parse_literal`
and then the option's own :class:`Option` check, so ``"24"``, ``24`` and ``24.0`` all mean ``24``.

A request may carry options meant for the node rather than the model (``output_length``, ``timeout_ms``,
``model_id``, ...). Those are the core's :data:`~ainode_core.pipelines.validation.NODE_OPTIONS` and skipped;
any other name a model does not know is an error from the core's shared message: a near miss gets "did you
mean", an option other models offer (``quantiles``) says which, and every message lists what the model
accepts.
"""
from __future__ import annotations

import ast
import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.pipelines.validation import NODE_OPTIONS, unsupported_option_message
from ainode_core.pipelines.validation import normalise_option as normalise_key  # the plugin's name for it

log = logging.getLogger("ainode_plugin_sktime")

# Keys a config.json may carry that describe the model rather than set an estimator parameter.
CONFIG_METADATA: frozenset[str] = frozenset({
    "model_type", "sktime_model", "model_id", "task", "description", "auto_map", "pipeline_cls",
    "architectures", "transformers_version", "torch_dtype",
})


def parse_literal(value: Any) -> Any:
    """A SQL string as the Python value it spells; non-strings pass through.

    ``"(2,1,1)"`` → ``(2, 1, 1)``, ``"24"`` → ``24``, ``"true"`` → ``True``, ``"none"`` → ``None``,
    ``"add"`` (not a literal) → ``"add"``.
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    lowered = text.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    if lowered in {"none", "null"}:
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


@dataclass(frozen=True)
class Option:
    """One option a model accepts: ``check`` turns a parsed value into the canonical one or raises
    ``ValueError`` whose text says what is allowed (shown to the user as is)."""

    name: str
    check: Callable[[Any], Any]
    allowed: str


class OptionSet:
    """The options one model accepts, with aliases (``sp`` for ARIMA's ``season_length``, ...)."""

    def __init__(self, model_id: str, options: Iterable[Option], aliases: Mapping[str, str] | None = None):
        self.model_id = model_id
        self.options = {option.name: option for option in options}
        self.aliases = dict(aliases or {})

    def names(self) -> list[str]:
        return sorted(self.options) + sorted(f"{alias} (= {target})" for alias, target in self.aliases.items())

    def canonical_name(self, key: str) -> str | None:
        name = normalise_key(key)
        name = self.aliases.get(name, name)
        return name if name in self.options else None

    def validate(self, values: Mapping[str, Any], *, source: str, strict: bool) -> dict[str, Any]:
        """Checked values by canonical name. ``strict``: an unknown key that is not a node key is an error
        (requests); otherwise it is skipped (config files may carry keys for other tools)."""
        result: dict[str, Any] = {}
        given_as: dict[str, str] = {}
        for key, raw in values.items():
            normalised = normalise_key(key)
            if normalised in NODE_OPTIONS or normalised in CONFIG_METADATA:
                continue
            name = self.canonical_name(key)
            if name is None:
                if strict:
                    raise InvalidInferenceConfigError(unsupported_option_message(
                        self.model_id, key, [*self.options, *self.aliases], listing=", ".join(self.names())))
                log.debug("model %s: %s key '%s' is not an option of this model; ignored", self.model_id, source, key)
                continue
            if name in given_as and given_as[name] != key:
                raise InvalidInferenceConfigError(
                    f"Options '{given_as[name]}' and '{key}' both set {name} of model {self.model_id}; "
                    "give only one of them.")
            given_as[name] = key
            option = self.options[name]
            try:
                result[name] = option.check(parse_literal(raw))
            except (ValueError, TypeError) as exc:
                detail = str(exc) or option.allowed
                raise InvalidInferenceConfigError(
                    f"Invalid {source} option {key}={raw!r} for model {self.model_id}: {detail}.") from None
        return result


# --- value checks (each raises ValueError with the allowed values) -------------------------------------


def integer(minimum: int | None = None, maximum: int | None = None, *, optional: bool = False,
            odd: bool = False) -> Callable[[Any], Any]:
    allowed = _range_text("an integer", minimum, maximum) + (", odd" if odd else "")
    allowed += " or None" if optional else ""

    def check(value: Any) -> int | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            raise ValueError(f"expected {allowed}")
        number = int(value)
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise ValueError(f"expected {allowed}")
        if odd and number % 2 == 0:
            raise ValueError(f"expected {allowed}")
        return number

    return check


def real(minimum: float | None = None, maximum: float | None = None, *, open_min: bool = False,
         open_max: bool = False, optional: bool = False) -> Callable[[Any], Any]:
    low = "" if minimum is None else f"{minimum} {'<' if open_min else '<='} "
    high = "" if maximum is None else f" {'<' if open_max else '<='} {maximum}"
    allowed = f"a number {low}x{high}" if (low or high) else "a number"
    allowed += " or None" if optional else ""

    def check(value: Any) -> float | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected {allowed}")
        number = float(value)
        if minimum is not None and (number < minimum or (open_min and number == minimum)):
            raise ValueError(f"expected {allowed}")
        if maximum is not None and (number > maximum or (open_max and number == maximum)):
            raise ValueError(f"expected {allowed}")
        return number

    return check


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in {"yes", "no", "on", "off"}:
        return value.lower() in {"yes", "on"}
    raise ValueError("expected true or false")


def choice(*values: str | None, synonyms: Mapping[str, str | None] | None = None) -> Callable[[Any], Any]:
    """One of ``values`` (case-insensitive); ``None`` in values allows none."""
    canonical = {("none" if v is None else v.lower()): v for v in values}
    canonical.update({k.lower(): v for k, v in (synonyms or {}).items()})
    allowed = "one of " + ", ".join("none" if v is None else v for v in values)

    def check(value: Any) -> str | None:
        if value is None and None in values:
            return None
        if isinstance(value, str) and value.lower() in canonical:
            return canonical[value.lower()]
        raise ValueError(f"expected {allowed}")

    return check


def int_tuple(*lengths: int) -> Callable[[Any], tuple[int, ...]]:
    """A tuple of non-negative integers, e.g. ARIMA's ``order`` ``(p, d, q)``; lists are accepted too."""
    allowed = " or ".join(f"a tuple of {n} non-negative integers" for n in lengths)

    def check(value: Any) -> tuple[int, ...]:
        if not isinstance(value, (tuple, list)) or len(value) not in lengths:
            raise ValueError(f"expected {allowed}, e.g. ({', '.join(['1'] + ['0'] * (lengths[0] - 1))})")
        items = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, (int, float)) or item != int(item) or item < 0:
                raise ValueError(f"expected {allowed}")
            items.append(int(item))
        return tuple(items)

    return check


def _range_text(what: str, minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f"{what} between {minimum} and {maximum}"
    if minimum is not None:
        return f"{what} >= {minimum}"
    if maximum is not None:
        return f"{what} <= {maximum}"
    return what
