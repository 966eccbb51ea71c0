"""Exit 2 means nothing was written: a script's or a `-c` line's errors, found in its
plans before its first create.

The resolver reads each stage once into a `Plan`, following what lines do to the
script's scope (`resolver.Scope`, which also says what a name refers to); the executor
runs those plans. A plan says what its line refers to and reads (`Plan.named`,
`files_read`, `input_json`, `sweep_axes`); here that is checked as the run will meet
it: the names defined, the files readable, the sweep not too big, and (through
`schemacheck`) every later run's inputs against its model's schema.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import msgspec

from rshell.commands.resolver import Plan, Scope, nothing_piped
from rshell.errors import UsageError
from rshell.grammar.inputs import raw_values, readable_file
from rshell.grammar.parser import Statement
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
                        checked.runs.note(statement, plan, _swept(plan, asks), plan.input_json())
        except UsageError as error:
            checked.problems.append((statement, error))
        scope.bound(statement.target)
    return checked


def _check(plan: Plan, piped: bool, scope: Scope) -> bool:
    """The names the plan refers to are defined, the files it reads can be read; False
    when a template decides what the line says (the run reads it then)."""
    for ref in (*plan.refs, *plan.named()):
        scope.refer(ref, piped)
    if plan.command is None or plan.args is None:
        return False  # a template's value may be what makes the line right; it runs to tell
    for path in plan.files_read():
        readable_file(path)
    if plan.command.inputs_arg is not None:  # a run's inputs (not `api`'s fields, which name no files)
        inline = plan.args.values.get("file_encoding") == "data"
        raw_values((given for given, later in plan.given if not later), inline=inline)
    return True


def _swept(plan: Plan, asks: bool) -> list[Axis]:
    """The plan's sweep axes; more than `ASK_ABOVE` runs need `--yes` where no one is
    asked."""
    found = plan.sweep_axes()
    if not found or asks or (plan.args is not None and plan.args.values.get("yes")):
        return found
    from rshell.grammar.sweeps import ASK_ABOVE, too_many

    count = math.prod(len(axis.values) for axis in found)
    if count > ASK_ABOVE:
        raise too_many(count)
    return found
