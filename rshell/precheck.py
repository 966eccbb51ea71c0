"""Exit 2 means nothing was written: a script's or a `-c` line's errors, found in its
plans before its first create.

The resolver reads each stage once into a `Plan`, following what lines do to the
script's scope (`resolver.Scope`); the executor runs those plans. Here they are
checked: the names templates and `show`/`wait` refer to, `@paths`, and (through
`schemacheck`) every later run's inputs against its model's schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rshell.commands.resolver import Plan, Scope
from rshell.errors import ParseError, UsageError
from rshell.grammar.inputs import split_inputs
from rshell.grammar.parser import Statement
from rshell.grammar.templates import parse_ref
from rshell.schemacheck import Problems, Runs
from rshell.session.state import Session


def nothing_piped() -> UsageError:
    """The error of `{{.…}}` with no piped result."""
    return UsageError(
        "'{{.…}}' refers to a piped result, but nothing was piped in",
        "pipe a command into this one (`a | b`), or name a result: {{x.output[0]}}",
    )


@dataclass
class Checked:
    """The plans of a text (by id of their stage), the problems found, the runs noted."""

    plans: dict[int, Plan]
    problems: Problems = field(default_factory=list)
    runs: Runs = field(default_factory=Runs)


def precheck(statements: list[Statement], session: Session, *, piped: bool) -> Checked:
    """Every stage's plan, and every problem found without the network, in order."""
    scope = Scope(set(session.variables), dict(session.aliases), dict(session.options), session.last is not None)
    checked = Checked(scope.plans)
    before = _Before(session)
    for statement in statements:
        if scope.opaque:
            break
        try:
            for stage, node in enumerate(statement.pipeline):
                if node.system is None:
                    plan = scope.read(node.words, id(node))
                    _check(plan, stage > 0 or piped, scope)
                    before.check(plan)
                    _note(statement, plan, scope, checked.runs)
        except UsageError as error:
            checked.problems.append((statement, error))
        scope.bound(statement.target)
        before.rebound.update({"_", statement.target or "_"})
    return checked


@dataclass
class _Before:
    """The values the session held before the text: a path into one is checked now
    (a path into a result the text makes is known only when it runs: exit 1)."""

    session: Session
    rebound: set[str] = field(default_factory=set)

    def check(self, plan: Plan) -> None:
        from rshell.grammar.templates import resolve

        for ref in plan.refs:
            if ref.name is not None and ref.name not in self.rebound and ref.path:
                resolve(ref, lambda name: self.session.lookup(str(name)), self.session.joins)


def _check(plan: Plan, piped: bool, scope: Scope) -> None:
    """The names the plan refers to are defined (`{{.…}}` when something is piped in);
    its `@paths` can be read."""
    for ref in plan.refs:
        _defined(ref.name, piped, scope)
    if plan.command is None or plan.args is None:
        return  # a template's value may be what makes the line right; it runs to tell
    templated = {plan.words[i].value for i in plan.templated}
    for arg in plan.command.args:
        if arg.names_variable:
            value = plan.args.values.get(arg.name)
            for text in value if isinstance(value, list) else [value]:
                if isinstance(text, str) and text not in templated:
                    _defined_ref(text, piped, scope)
    plain = [word for word in plan.args.inputs if word not in templated]
    if plain and plan.command.network:
        split_inputs(plain, _separator(plan, scope.options))


def _note(statement: Statement, plan: Plan, scope: Scope, runs: Runs) -> None:
    if plan.args is not None:
        runs.note(statement, plan, _separator(plan, scope.options))


def _separator(plan: Plan, options: dict[str, Any]) -> str:
    args = plan.args.values if plan.args is not None else {}
    return str(args.get("separator") or options.get("separator") or "=")


def _defined_ref(text: str, piped: bool, scope: Scope) -> None:
    """`show x.output`, `wait a b`: a name an argument refers to is defined."""
    try:
        ref = parse_ref(text.strip())
    except ParseError:
        return  # not a name (`show` prints such text as it is)
    _defined(ref.name, piped, scope)


def _defined(name: str | None, piped: bool, scope: Scope) -> None:
    if name is None:
        if not piped:
            raise nothing_piped()
        return
    probe = Session(variables=dict.fromkeys(scope.names, True), last=True if scope.has_last else None)
    probe.lookup(name)  # the session's own message for an undefined name
