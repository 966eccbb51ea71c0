"""Exit 2 means nothing was sent: a script's usage errors, found before its first request.

Every statement of a script, and every stage of a pipeline, is checked for what needs
no network: the grammar (already parsed), command names, flags, `@file` paths and the
names templates refer to (defined before, or bound by an earlier statement). What needs
a model's schema (unknown inputs, bounds) is still checked per statement, when it runs.
Lines are read by `commands.resolver`, as the executor reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rshell.commands.arguments import ParsedArgs
from rshell.commands.registry import Command
from rshell.commands.resolver import expand, find_command, parse_line
from rshell.errors import UsageError
from rshell.grammar.inputs import split_inputs
from rshell.grammar.lexer import Word
from rshell.grammar.parser import CommandNode, Statement
from rshell.grammar.templates import references
from rshell.session.state import Session, is_numbered


def nothing_piped() -> UsageError:
    """The error of `{{.…}}` with no piped result."""
    return UsageError(
        "'{{.…}}' refers to a piped result, but nothing was piped in",
        "pipe a command into this one (`a | b`), or name a result: {{x.output[0]}}",
    )


@dataclass
class _Scope:
    """What a statement can refer to: the names and aliases defined before it."""

    names: set[str]
    aliases: dict[str, str]
    options: dict[str, Any]
    has_last: bool
    piped: bool
    errors: list[tuple[Statement, UsageError]] = field(default_factory=list)
    opaque: bool = False  # after `source FILE`: what it defines is unknown, so checking stops

    def check_name(self, name: str | None, stage: int) -> None:
        if name is None:
            if stage == 0 and not self.piped:
                raise nothing_piped()
            return
        if is_numbered(name):
            return  # `_3`, `__`: numbered as the statements run, so known only then
        probe = Session(variables=dict.fromkeys(self.names, True), last=True if self.has_last else None)
        probe.lookup(name)  # the session's own message for an undefined name


def precheck(statements: list[Statement], session: Session, *, piped: bool) -> list[tuple[Statement, UsageError]]:
    """Every usage error found without the network, with its statement, in order."""
    scope = _Scope(
        set(session.variables), dict(session.aliases), dict(session.options), session.last is not None, piped
    )
    for statement in statements:
        if scope.opaque:
            break
        try:
            for stage, node in enumerate(statement.pipeline):
                if node.system is None:
                    _check_node(node, stage, scope)
        except UsageError as error:
            scope.errors.append((statement, error))
        if statement.target:
            scope.names.add(statement.target)
        scope.has_last = True
    return scope.errors


def _check_node(node: CommandNode, stage: int, scope: _Scope) -> None:
    words = expand(node.words, scope.aliases)
    templated = {word.value for word in words if _refs(word, stage, scope)}
    options = scope.options
    try:
        command, rest = find_command(words)
        command, args = parse_line(command, [word.value for word in rest], options)
    except UsageError:
        if templated:
            return  # a template's value may be what makes the line right; it runs to tell
        raise
    _follow_definitions(command, args, scope)
    plain = [word for word in args.inputs if word not in templated]
    if plain and command.network:
        split_inputs(plain, str(args.values.get("separator") or options.get("separator") or "="))


def _refs(word: Word, stage: int, scope: _Scope) -> bool:
    """Check the names `word`'s templates use; True when it has any."""
    refs = references(word)
    for ref in refs:
        scope.check_name(ref.name, stage)
    return bool(refs)


def _follow_definitions(command: Command, args: ParsedArgs, scope: _Scope) -> None:
    """`alias`, `unalias`, `unset`, `set` and `source` in a script change what later
    lines mean."""
    if command.path == ("alias",) and args.get("definition"):
        name, eq, text = str(args.get("definition")).partition("=")
        if eq:
            scope.aliases[name] = text
    elif command.path == ("unalias",):
        scope.aliases.pop(str(args.get("name")), None)
    elif command.path == ("unset",):
        scope.names.discard(str(args.get("name")))
    elif command.path == ("set",) and args.get("option") and args.get("value") is not None:
        scope.options[str(args.get("option"))] = args.get("value")
    elif command.path == ("source",):
        scope.opaque = True
