"""Cog-style declarations: typed `run` parameters with `Input(...)` defaults.

A model is written the way a Cog predictor is (`prompt: str = Input(description=...)`)
so its schema can be generated from the signature, the way Cog does it, instead of
being written by hand beside the code and drifting from it.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


class _Missing:
    """The marker for "no default": the input is required."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class Path(str):
    """A file: as an input a URL (or data: URL) to read; as an output a saved file's URL."""


class ConcatenateIterator(Iterator[T]):
    """Streamed text whose items a client shows joined (Cog's token streams)."""

    def __next__(self) -> T:  # pragma: no cover - only an annotation marker
        raise StopIteration


@dataclass(frozen=True)
class InputSpec:
    """What `Input(...)` records about one parameter."""

    description: str | None = None
    default: Any = MISSING
    ge: float | None = None
    le: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    regex: str | None = None
    choices: tuple[Any, ...] | None = None


def Input(  # noqa: N802 - named like Cog's, so predictors read like Cog predictors
    description: str | None = None,
    default: Any = MISSING,
    ge: float | None = None,
    le: float | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    regex: str | None = None,
    choices: list[Any] | None = None,
) -> Any:
    """Declare an input's description, default and constraints (as `cog.Input`)."""
    return InputSpec(
        description,
        default,
        ge,
        le,
        min_length,
        max_length,
        regex,
        tuple(choices) if choices is not None else None,
    )


@dataclass(frozen=True)
class Field:
    """One declared input: its name, position, Python type and spec."""

    name: str
    order: int
    annotation: Any
    spec: InputSpec

    @property
    def required(self) -> bool:
        return self.spec.default is MISSING

    @property
    def base_type(self) -> Any:
        """The type without `Optional[...]`."""
        return strip_optional(self.annotation)[0]


def strip_optional(annotation: Any) -> tuple[Any, bool]:
    """(`X`, True) for `X | None` / `Optional[X]`; (annotation, False) otherwise."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            return args[0], True
    return annotation, False


def declared_fields(method: Callable[..., Any], skip: int = 1) -> list[Field]:
    """The inputs a `run(self, job, ...)` method declares, in order.

    `skip` is how many leading parameters after `self` are not inputs (the job).
    """
    hints = typing.get_type_hints(method)
    params = list(inspect.signature(method).parameters.values())[1 + skip :]
    fields = []
    for order, param in enumerate(params):
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"{method.__qualname__}: *args/**kwargs cannot be inputs")
        if param.name not in hints:
            raise TypeError(f"{method.__qualname__}: input {param.name!r} needs a type")
        spec = (
            param.default
            if isinstance(param.default, InputSpec)
            else InputSpec(default=MISSING if param.default is param.empty else param.default)
        )
        fields.append(Field(param.name, order, hints[param.name], spec))
    return fields


def declared_output(method: Callable[..., Any]) -> Any:
    """The return annotation: the Output type of the schema."""
    hints = typing.get_type_hints(method)
    if "return" not in hints:
        raise TypeError(f"{method.__qualname__} needs a return type (the model's Output)")
    return hints["return"]
