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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rshell.commands.resolver import Plan
from rshell.errors import RshellError, UsageError
from rshell.grammar.inputs import Input, raw_values
from rshell.grammar.parser import Statement
from rshell.grammar.sweeps import Axis, axes

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient
    from rshell.commands.modelref import RunTarget

Problems = list[tuple[Statement, UsageError]]


@dataclass
class _Run:
    """A stage whose inputs a schema checks, once the schemas are read."""

    statement: Statement
    plan: Plan
    changed_before: frozenset[str]  # words of earlier writes: a model they name may change


@dataclass
class Runs:
    """The runs of a text whose inputs a schema checks, noted as precheck reads it."""

    noted: list[_Run] = field(default_factory=list)
    wrote: bool = False  # a stage before may send a write
    changed: set[str] = field(default_factory=set)  # what earlier writes name (models they may change)

    def note(self, statement: Statement, plan: Plan) -> None:
        command = plan.command
        if command is None:
            return
        if command.inputs_arg is not None and self.wrote:
            self.noted.append(_Run(statement, plan, frozenset(self.changed)))
        if command.writes:
            self.wrote = True
            if command.kind != "prediction":  # a prediction changes no model; a training, a create may
                self.changed.update(_named(word.value) for word in plan.words)


def _named(word: str) -> str:
    """A model or deployment a write's word names (`--destination=a/b` names a/b)."""
    return word.rpartition("=")[2].partition(":")[0]


async def check_inputs(noted: Runs, client: Callable[[], Awaitable[ReplicateClient]]) -> Problems:
    """The inputs of every run after the text's first write, against the schemas read
    for them (concurrently, each once). A schema that cannot be read, or a model an
    earlier write may change, is left to the run."""
    runs = [run for run in noted.noted if _model_of(run) is not None]
    if not runs:
        return []
    try:
        api = await client()
    except RshellError:
        return []
    wanted = {_model_of(run) for run in runs}
    keys = [key for key in wanted if key is not None]
    schemas = dict(zip(keys, await asyncio.gather(*(_schema(api, key) for key in keys)), strict=True))
    problems: Problems = []
    for run in runs:
        key = _model_of(run)
        schema = schemas.get(key) if key is not None else None
        if schema is None:
            continue
        try:
            _validate(run, schema)
        except UsageError as error:
            problems.append((run.statement, error))
    return problems


def _model_of(run: _Run) -> tuple[str, RunTarget] | None:
    """(kind, target) of a run's schema; None when unknown before it runs (a template
    names it, a rerun's earlier run, an earlier write changes it)."""
    args, kind = run.plan.args, run.plan.command.kind if run.plan.command else None
    if args is None or kind is None or args.target is None:
        return None
    target = args.target
    pinned = target.model is not None and target.model.version is not None
    if not pinned and target.shown in run.changed_before:
        return None
    return (kind, target)


async def _schema(client: ReplicateClient, key: tuple[str, RunTarget]) -> dict | None:
    """The schema a run's inputs are checked against (a trainer's TrainingInput); None
    when it cannot be read now (the run then says why)."""
    from rshell.commands import modelref
    from rshell.grammar.inputs import input_schema

    kind, target = key
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
    """The literal inputs coerced and validated (a sweep's every value); a templated
    value's key is checked, its value only when it runs."""
    from rshell.grammar.inputs import coerce, validate

    plan, args = run.plan, run.plan.args
    assert args is not None and plan.command is not None and plan.command.inputs_arg is not None
    later = [given.key for given, templated in plan.given if templated]
    properties = dict(schema.get("properties") or {})
    relaxed = {**schema, "properties": {**properties, **{k: {} for k in later if k in properties}}}
    if plan.command.inputs_arg.partial_inputs:
        relaxed.pop("required", None)
    found = _axes(run) if plan.command.inputs_arg.sweeps else []
    swept = {axis.key for axis in found}
    plain = [given for given, templated in plan.given if not templated and given.key not in swept]
    for values in _each_value(found):
        sample = coerce(raw_values(plain + [Input(key, value) for key, value in values.items()]), relaxed)
        validate({**dict.fromkeys(later, ""), **sample}, relaxed)


def _axes(run: _Run) -> list[Axis]:
    """The sweep axes among the run's literal input words, as the run reads them."""
    plan, args = run.plan, run.plan.args
    assert args is not None
    typed = set(args.inputs)
    words = [word for i, word in enumerate(plan.words) if i not in plan.templated and word.value in typed]
    return axes(words, args.separator)


def _each_value(found: list[Axis]) -> list[dict[str, str]]:
    """Inputs that give every axis's every value once (the others at their first): each
    value is checked as one of the sweep's runs sends it."""
    first = {axis.key: axis.values[0] for axis in found}
    return [{**first, axis.key: value} for axis in found for value in axis.values] or [{}]
