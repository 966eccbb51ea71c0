"""Exit 2 means nothing was written: a script's or a `-c` line's errors, found in its
plans before its first create.

The resolver reads each stage once into a `Plan`, following what lines do to the
script's scope (`resolver.Scope`, which also says what a name refers to); the executor
runs those plans. Here they are checked as the run will read them: the names
templates and `show`/`wait` refer to, `@paths` and the other files a line reads,
`--input-json`, sweep axes, and (through `schemacheck`) every later run's inputs
against its model's schema.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import msgspec

from rshell.commands.resolver import Plan, Scope, nothing_piped
from rshell.errors import ParseError, UsageError
from rshell.grammar.inputs import raw_values, read_input_json, readable_file
from rshell.grammar.parser import Statement
from rshell.grammar.templates import parse_ref
from rshell.schemacheck import Problems, Runs
from rshell.session.state import Session

if TYPE_CHECKING:
    from rshell.grammar.sweeps import Axis

__all__ = ["Checked", "nothing_piped", "precheck"]


class Checked(msgspec.Struct):
    """The plans of a text (by id of their stage), the problems found, the runs noted."""

    plans: dict[int, Plan]
    problems: Problems = msgspec.field(default_factory=list)
    runs: Runs = msgspec.field(default_factory=Runs)


def precheck(statements: list[Statement], session: Session, *, piped: bool, asks: bool = False) -> Checked:
    """Every stage's plan, and every problem found without the network, in order.
    `asks`: a big sweep is asked about (the shell, a dry run) instead of refused."""
    scope = Scope.of(session)
    checked = Checked(scope.plans)
    for statement in statements:
        if scope.opaque:
            break
        try:
            for stage, node in enumerate(statement.pipeline):
                if node.system is None:
                    plan = scope.read(node.words, id(node))
                    if _check(plan, stage > 0 or piped, scope):
                        checked.runs.note(statement, plan, _swept(plan, asks), _whole(plan))
        except UsageError as error:
            checked.problems.append((statement, error))
        scope.bound(statement.target)
    return checked


def _check(plan: Plan, piped: bool, scope: Scope) -> bool:
    """The names the plan refers to are defined, its `@paths` can be read; False when
    a template decides what the line says (the run reads it then)."""
    for ref in plan.refs:
        scope.refer(ref, piped)
    if plan.command is None or plan.args is None:
        return False  # a template's value may be what makes the line right; it runs to tell
    templated = {plan.words[i].value for i in plan.templated}
    for arg in (arg for arg in plan.command.args if arg.names_variable):  # `show x.output`, `wait a b`
        value = plan.args.values.get(arg.name)
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and text not in templated:
                try:
                    scope.refer(parse_ref(text.strip()), piped)
                except ParseError:
                    continue  # not a name (`show` prints such text as it is)
    for path in _read(plan, templated):
        readable_file(path)
    if plan.command.inputs_arg is not None:  # a run's inputs (not `api`'s fields, which name no files)
        inline = plan.args.values.get("file_encoding") == "data"
        raw_values((given for given, later in plan.given if not later), inline=inline)
    return True


def _read(plan: Plan, templated: set[str]) -> list[str]:
    """The local files the line reads (`Arg`/`Flag` `reads`), as typed: not stdin's `-`
    nor a template's value."""
    command, args = plan.command, plan.args
    assert command is not None and args is not None
    given = [args.values.get(a.name) for a in command.args if a.reads]
    given += [args.values.get(f.dest) for f in command.flags if f.reads]
    paths = [str(text).removeprefix("@") for text in given if isinstance(text, str) and text != "-"]
    return [path for path in paths if not any(path in word for word in templated)]


def _swept(plan: Plan, asks: bool) -> list[Axis]:
    """The plan's sweep axes, as its run reads them; more than `ASK_ABOVE` runs need
    `--yes` where no one is asked."""
    declared, args = plan.command.inputs_arg if plan.command else None, plan.args
    if declared is None or not declared.sweeps or args is None:
        return []
    from rshell.grammar.sweeps import ASK_ABOVE, line_axes, too_many  # only for a line that may sweep

    found = line_axes(plan.words, args.inputs, args.separator)
    count = math.prod(len(axis.values) for axis in found)
    if found and count > ASK_ABOVE and not asks and not args.values.get("yes"):
        raise too_many(count)
    return found


def _whole(plan: Plan) -> dict[str, Any] | None:
    """`--input-json`'s object, read as the run reads it ({} without one); None when only
    the run can read it (stdin, a template)."""
    given = plan.args.values.get("input_json") if plan.args else None
    if given is None:
        return {}
    if given == "-" or any(str(given) in plan.words[i].value for i in plan.templated):
        return None  # `--input-json {{x}}`, `--input-json={{x}}`
    return read_input_json(str(given), None)
