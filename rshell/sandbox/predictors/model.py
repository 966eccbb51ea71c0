"""The base class of the built-in models: a Cog-style `run` becomes a `Predictor`.

A subclass sets `name`, `description` (and `trainable`) and writes
`def run(self, job: Job, prompt: str = Input(...), ...) -> Output`. The schema comes
from that signature; `predict()` prepares the inputs and calls `run`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any, ClassVar

from rshell.sandbox.predictors.base import Cancelled, RunContext
from rshell.sandbox.predictors.coerce import prepare_inputs
from rshell.sandbox.predictors.declare import Field, declared_fields, declared_output
from rshell.sandbox.predictors.schema import openapi_document


class Job:
    """One run as a model sees it: the server's RunContext plus the version's weights."""

    def __init__(self, run: RunContext, weights: dict[str, Any] | None = None) -> None:
        self.run = run
        self.weights = weights or {}

    def log(self, text: str) -> None:
        self.run.log(text)

    def cancelled(self) -> bool:
        return self.run.cancelled()

    def check(self, partial: Any = None) -> None:
        """Raise `Cancelled(partial)` if the run was asked to stop."""
        if self.run.cancelled():
            raise Cancelled(partial)

    def save_file(self, data: bytes, filename: str, content_type: str) -> str:
        return self.run.save_file(data, filename, content_type)

    def read_input(self, url_or_data: str) -> bytes:
        return self.run.read_input(url_or_data)


class CogStyleModel:
    """Implements `Predictor` for a subclass that declares `run` the Cog way."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    hardware: ClassVar[str] = "cpu"
    trainable: ClassVar[bool] = False
    # Official models run by name and list no versions; the others run by version
    # only, as on Replicate (references/sandbox-models.md says which is which).
    official: ClassVar[bool] = False

    _schema: dict[str, Any] | None = None

    def run(self, job: Job) -> Any:  # pragma: no cover - every model overrides it
        raise NotImplementedError

    def fields(self) -> list[Field]:
        """The declared inputs of `run`, in order."""
        return declared_fields(type(self).run)

    def openapi_schema(self) -> dict[str, Any]:
        """Generated once from the declaration; callers get their own copy."""
        if self._schema is None:
            self._schema = openapi_document(self.fields(), declared_output(type(self).run), self.trainable)
        return copy.deepcopy(self._schema)

    def predict(
        self, inputs: dict[str, Any], run: RunContext, weights: dict[str, Any] | None = None
    ) -> Any | Iterator[Any]:
        """Prepare the inputs (coerce, default, clamp) and run once."""
        kwargs = prepare_inputs(self.fields(), inputs or {})
        return self.run(Job(run, weights), **kwargs)
