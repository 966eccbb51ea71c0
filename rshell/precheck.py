"""Exit 2 means nothing was written: a script's or a `-c` line's errors, found before
its first create.

Every stage is read once into a `Plan` (commands/resolver.py), following what each
statement does to the script's scope (its `Command.scope`, and `NAME =`). The plans
are checked whole: commands, flags, `@paths`, the names templates and `show`/`wait`
refer to, and then, with reads sent concurrently before any write, the inputs of
every run after the first write against its model's or trainer's schema. The executor
runs the same plans.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rshell.commands.resolver import Plan, read_plan
from rshell.errors import ParseError, RshellError, UsageError
from rshell.grammar.inputs import split_inputs
from rshell.grammar.parser import CommandNode, Statement
from rshell.grammar.templates import parse_ref
from rshell.session.state import Session

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient

Problems = list[tuple[Statement, UsageError]]


def nothing_piped() -> UsageError:
    """The error of `{{.…}}` with no piped result."""
    return UsageError(
        "'{{.…}}' refers to a piped result, but nothing was piped in",
        "pipe a command into this one (`a | b`), or name a result: {{x.output[0]}}",
    )


@dataclass
class _Run:
    """A stage whose inputs a schema checks, once the schemas are read."""

    statement: Statement
    plan: Plan
    separator: str
    changed_before: frozenset[str]  # words of earlier writes: a model they name may change


@dataclass
class Checked:
    """The plans of a text (by stage) and the problems found in them, in order."""

    plans: dict[int, Plan] = field(default_factory=dict)
    problems: Problems = field(default_factory=list)
    runs: list[_Run] = field(default_factory=list)


@dataclass
class _Scope:
    """What a statement can refer to: the names and aliases defined before it."""

    names: set[str]
    aliases: dict[str, str]
    options: dict[str, Any]
    has_last: bool
    piped: bool
    opaque: bool = False  # after `source FILE`: what it defines is unknown, so checking stops
    wrote: bool = False  # a stage before may send a write
    changed: set[str] = field(default_factory=set)  # what earlier writes name (models they may change)

    def check_name(self, name: str | None, stage: int) -> None:
        if name is None:
            if stage == 0 and not self.piped:
                raise nothing_piped()
            return
        probe = Session(variables=dict.fromkeys(self.names, True), last=True if self.has_last else None)
        probe.lookup(name)  # the session's own message for an undefined name

    def follow(self, plan: Plan) -> None:
        """`alias`, `unalias`, `unset`, `set` and `source` change what later lines mean."""
        if plan.command is None or plan.args is None:
            return
        effect, args = plan.command.scope, plan.args
        if effect == "alias" and args.get("definition"):
            name, eq, text = str(args.get("definition")).partition("=")
            if eq:
                self.aliases[name] = text
        elif effect == "unalias":
            self.aliases.pop(str(args.get("name")), None)
        elif effect == "unset":
            self.names.discard(str(args.get("name")))
        elif effect == "set" and args.get("option") and args.get("value") is not None:
            self.options[str(args.get("option"))] = args.get("value")
        elif effect == "source":
            self.opaque = True


def precheck(statements: list[Statement], session: Session, *, piped: bool) -> Checked:
    """Every stage's plan, and every problem found without the network."""
    scope = _Scope(
        set(session.variables), dict(session.aliases), dict(session.options), session.last is not None, piped
    )
    checked = Checked()
    for statement in statements:
        if scope.opaque:
            break
        try:
            for stage, node in enumerate(statement.pipeline):
                if node.system is None:
                    _check_node(statement, node, stage, scope, checked)
        except UsageError as error:
            checked.problems.append((statement, error))
        if statement.target:
            scope.names.add(statement.target)
        scope.has_last = True
    return checked


def _check_node(statement: Statement, node: CommandNode, stage: int, scope: _Scope, checked: Checked) -> None:
    plan = read_plan(node.words, scope.aliases, scope.options)
    checked.plans[id(node)] = plan
    for ref in plan.refs:
        scope.check_name(ref.name, stage)
    if plan.command is None or plan.args is None:
        return  # a template's value may be what makes the line right; it runs to tell
    command, args = plan.command, plan.args
    for arg in command.args:
        if arg.names_variable:
            _check_names(args.values.get(arg.name), plan, stage, scope)
    separator = str(args.values.get("separator") or scope.options.get("separator") or "=")
    literal = [word.value for i, word in enumerate(plan.words) if i not in plan.templated]
    plain = [word for word in args.inputs if word in literal]
    if plain and command.network:
        split_inputs(plain, separator)
    if command.inputs_arg is not None and scope.wrote:
        checked.runs.append(_Run(statement, plan, separator, frozenset(scope.changed)))
    if command.writes:
        scope.wrote = True
        if command.kind != "prediction":  # a prediction changes no model; a training, a create may
            scope.changed.update(_named(word.value) for word in plan.words)
    scope.follow(plan)


def _check_names(value: Any, plan: Plan, stage: int, scope: _Scope) -> None:
    """`show x.output`, `wait a b`: the names an argument refers to are defined."""
    templated = {plan.words[i].value for i in plan.templated}
    for text in value if isinstance(value, list) else [value]:
        if not isinstance(text, str) or text in templated:
            continue
        try:
            ref = parse_ref(text.strip())
        except ParseError:
            continue  # not a name (`show` prints such text as it is)
        scope.check_name(ref.name, stage)


def _named(word: str) -> str:
    """A model or deployment a write's word names (`--destination=a/b` names a/b)."""
    return word.rpartition("=")[2].partition(":")[0]


async def check_inputs(checked: Checked, client: Callable[[], Awaitable[ReplicateClient]]) -> Problems:
    """The inputs of every run after the text's first write, against the schemas read
    for them (concurrently, each once). A schema that cannot be read, or a model an
    earlier write may change, is left to the run."""
    runs = [run for run in checked.runs if _model_of(run) is not None]
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


def _model_of(run: _Run) -> tuple[str, str, str] | None:
    """(kind, deployment|model, reference) of a run's schema; None when unknown before
    it runs (a template names it, a rerun's earlier run, an earlier write changes it)."""
    args, kind = run.plan.args, run.plan.command.kind if run.plan.command else None
    if args is None or kind is None:
        return None
    deployment, model = args.values.get("deployment"), args.values.get("model")
    name = deployment or model
    literal = {w.value for i, w in enumerate(run.plan.words) if i not in run.plan.templated}
    if not isinstance(name, str) or name not in literal and f"--deployment={name}" not in literal:
        return None
    pinned = ":" in name and not deployment
    if not pinned and name in run.changed_before:
        return None
    return (kind, "deployment" if deployment else "model", name)


async def _schema(client: ReplicateClient, key: tuple[str, str, str]) -> dict | None:
    """The schema a run's inputs are checked against (a trainer's TrainingInput); None
    when it cannot be read now (the run then says why)."""
    from rshell.commands import modelref
    from rshell.grammar.inputs import input_schema

    kind, what, name = key
    try:
        if what == "deployment":
            owner, _, short = name.partition("/")
            schema, _ = await modelref.fetch_deployment_schema(client, owner, short)
        else:
            schema, _ = await modelref.fetch_schema(client, modelref.parse_model_ref(name))
    except RshellError:
        return None
    if kind == "training":
        schema = modelref.training_schema(schema)
    return input_schema(schema) if schema else None


def _validate(run: _Run, schema: dict) -> None:
    """The literal inputs coerced and validated; a templated value's key is checked,
    its value only when it runs."""
    from rshell.grammar.inputs import coerce, validate

    plan, args = run.plan, run.plan.args
    assert args is not None and plan.command is not None and plan.command.inputs_arg is not None
    templated = {plan.words[i].value for i in plan.templated}
    plain = [word for word in args.inputs if word not in templated]
    later = [word.partition(run.separator)[0] for word in args.inputs if word in templated]
    properties = dict(schema.get("properties") or {})
    relaxed = {**schema, "properties": {**properties, **{k: {} for k in later if k in properties}}}
    if plan.command.inputs_arg.partial_inputs:
        relaxed.pop("required", None)
    values = coerce(split_inputs(plain, run.separator), relaxed)
    validate({**dict.fromkeys(later, ""), **values}, relaxed)
