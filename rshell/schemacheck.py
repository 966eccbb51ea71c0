"""A text's runs checked against their models' schemas before its first write.

Each run after the text's first write (`Command.writes`) is noted with what its line
says; the schemas are read concurrently (reads are fine before exit 2), once each, and
the literal inputs coerced and validated as the run itself would. What cannot be known
before the run (a templated model, a model an earlier write may change, a schema that
cannot be read now) is left to the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec

from rshell.commands.resolver import Plan
from rshell.errors import RshellError, UsageError
from rshell.grammar.inputs import Input, raw_values
from rshell.grammar.parser import Statement

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient
    from rshell.commands.modelref import RunTarget
    from rshell.grammar.sweeps import Axis

Problems = list[tuple[Statement, UsageError]]


class _Run(msgspec.Struct):
    """A stage whose inputs a schema checks, once the schemas are read."""

    statement: Statement
    plan: Plan
    schema: tuple[str, RunTarget]  # (kind, target): which schema, read once for every run naming it
    swept: list[Axis]  # its sweep axes: every value is checked
    whole: dict[str, Any]  # `--input-json`'s object, which its words change


class Runs(msgspec.Struct):
    """The runs of a text whose inputs a schema checks, noted as precheck reads it."""

    noted: list[_Run] = msgspec.field(default_factory=list)
    wrote: bool = False  # a stage before may send a write
    changed: set[str] = msgspec.field(default_factory=set)  # what earlier writes name (models they may change)

    def note(self, statement: Statement, plan: Plan, swept: list[Axis], whole: dict[str, Any] | None) -> None:
        """A run after the text's first write, unless an earlier write may change what
        its model takes (a training into it, a new version) or its whole input is read
        only when it runs (`--input-json -`): the run checks those."""
        command, args = plan.command, plan.args
        if command is None or args is None:
            return
        target = args.target
        if command.kind and target is not None and whole is not None and self.wrote and not self._may_change(target):
            self.noted.append(_Run(statement, plan, (command.kind, target), swept, whole))
        if command.writes:
            self.wrote = True
            if command.kind != "prediction":  # a prediction changes no model; a training, a create may
                self.changed.update(_named(word.value) for word in plan.words)

    def _may_change(self, target: RunTarget) -> bool:
        pinned = target.model is not None and target.model.version is not None
        return not pinned and target.shown in self.changed


def _named(word: str) -> str:
    """A model or deployment a write's word names (`--destination=a/b` names a/b)."""
    return word.rpartition("=")[2].partition(":")[0]


async def check_inputs(noted: Runs, client: Callable[[], Awaitable[ReplicateClient]]) -> Problems:
    """The inputs of every run after the text's first write, against the schemas read
    for them (concurrently, each once). A schema that cannot be read is left to the run."""
    if not noted.noted:
        return []
    try:
        api = await client()
    except RshellError:
        return []
    keys = list(dict.fromkeys(run.schema for run in noted.noted))
    schemas = dict(zip(keys, await asyncio.gather(*(_schema(api, *key) for key in keys)), strict=True))
    problems: Problems = []
    for run in noted.noted:
        schema = schemas[run.schema]
        try:
            if schema is not None:
                _validate(run, schema)
        except UsageError as error:
            problems.append((run.statement, error))
    return problems


async def _schema(client: ReplicateClient, kind: str, target: RunTarget) -> dict | None:
    """The schema a run's inputs are checked against (a trainer's TrainingInput); None
    when it cannot be read now (the run then says why)."""
    from rshell.commands import modelref
    from rshell.grammar.inputs import input_schema

    try:
        if target.deployment:
            schema, _ = await modelref.fetch_deployment_schema(client, *target.deployment)
        elif target.model is not None:
            schema, _ = await modelref.fetch_schema(client, target.model)
        else:
            return None
    except RshellError:
        return None
    if kind == "training":
        schema = modelref.training_schema(schema)
    return input_schema(schema) if schema else None


def _validate(run: _Run, schema: dict) -> None:
    """The literal inputs coerced and validated (a sweep's every value, as its run sends
    it) over `--input-json`'s object; a templated value's key is checked, its value
    only when it runs."""
    from rshell.grammar.inputs import coerce, validate

    plan, found = run.plan, run.swept
    declared = plan.command.inputs_arg if plan.command else None
    assert declared is not None  # only runs are noted
    later = [given.key for given, templated in plan.given if templated]
    properties = dict(schema.get("properties") or {})
    relaxed = {**schema, "properties": {**properties, **{k: {} for k in later if k in properties}}}
    if declared.partial_inputs:
        relaxed.pop("required", None)
    plain = [given for given, templated in plan.given if not templated and given.key not in {a.key for a in found}]
    first = {axis.key: axis.values[0] for axis in found}
    for values in [{**first, axis.key: value} for axis in found for value in axis.values] or [{}]:
        sample = coerce(raw_values(plain + [Input(key, value) for key, value in values.items()]), relaxed)
        validate({**run.whole, **dict.fromkeys(later, ""), **sample}, relaxed)
