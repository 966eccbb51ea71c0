"""Turn a raw input dict into the keyword arguments a declared `run` expects.

The server validates inputs against the schema first, but a model must not crash
on what slips through (a string "5" for an integer, a missing default, a number out
of range), so this fills defaults, converts what converts cleanly, clamps numbers
into range, and otherwise fails with a one-line `PredictionError`.
"""

from __future__ import annotations

import json
import math
import typing
from typing import Any

from rshell.sandbox.predictors.base import PredictionError
from rshell.sandbox.predictors.declare import MISSING, Field, Path, strip_optional

_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off", ""}


def prepare_inputs(fields: list[Field], inputs: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for `run`: every declared input, coerced; extras dropped."""
    return {field.name: _prepare(field, inputs.get(field.name)) for field in fields}


def _prepare(field: Field, value: Any) -> Any:
    if value is None:
        if field.required:
            raise PredictionError(f"input {field.name} is required")
        return None if field.spec.default is MISSING else field.spec.default
    base, _ = strip_optional(field.annotation)
    value = coerce(field.name, base, value)
    value = _clamp(field, value)
    choices = field.spec.choices
    if choices is not None and value not in choices:
        allowed = ", ".join(str(c) for c in choices)
        raise PredictionError(f"input {field.name} must be one of {allowed} (got {value!r})")
    return value


def coerce(name: str, kind: Any, value: Any) -> Any:
    """`value` as type `kind`, or a PredictionError naming the input."""
    if typing.get_origin(kind) is list:
        (item,) = typing.get_args(kind) or (Any,)
        items = value if isinstance(value, list) else [value]
        return [coerce(name, item, v) for v in items]
    converter = _CONVERTERS.get(kind)
    if converter is None:
        return value
    try:
        return converter(value)
    except (TypeError, ValueError, OverflowError):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise PredictionError(f"input {name} must be {_NOUNS[kind]} (got {shown})") from None


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("bool")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("fraction")
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        return int(float(text)) if text.endswith(".0") else int(text)
    if isinstance(value, int):
        return value
    raise TypeError(type(value).__name__)


def _to_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(type(value).__name__)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not finite")
    return number


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(repr(value))


def _to_str(value: Any) -> str:
    """Text as is; structured values as JSON, so a dict given for a string survives."""
    if isinstance(value, str):
        return value
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def _to_path(value: Any) -> Path:
    if not isinstance(value, str) or not value:
        raise TypeError(type(value).__name__)
    return Path(value)


_CONVERTERS: dict[Any, Any] = {int: _to_int, float: _to_float, bool: _to_bool, str: _to_str, Path: _to_path}
_NOUNS = {int: "an integer", float: "a number", bool: "true or false", str: "text", Path: "a file URL"}


def _clamp(field: Field, value: Any) -> Any:
    """Numbers outside ge/le are pulled to the nearest bound rather than failing late."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if field.spec.ge is not None and value < field.spec.ge:
        value = type(value)(field.spec.ge)
    if field.spec.le is not None and value > field.spec.le:
        value = type(value)(field.spec.le)
    return value
