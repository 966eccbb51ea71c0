"""What the first words of a stage name: the one reading of a command line's head.

A leading `replicate` (the official CLI's name) goes first, then user aliases expand,
then the catalog's command aliases, then the catalog finds the command. The executor,
completion, the REPL's highlighter and `save` all read a line's head here, so
`replicate e x` (with `alias e='run rshell/echo'`) means one thing everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from rshell.commands import catalog
from rshell.commands.arguments import ParsedArgs, parse_args
from rshell.commands.registry import Command
from rshell.errors import RshellError
from rshell.grammar.aliases import expand_aliases
from rshell.grammar.lexer import Word


@dataclass(frozen=True)
class Head:
    """The tolerant reading of a stage's words: the command found (or None), the words
    after it, and `group` when the words so far name only a group (`model`)."""

    command: Command | None
    rest: list[Word]
    group: str | None = None
    empty: bool = False  # nothing is left once aliases expand: a command name goes next


def expand(words: list[Word], aliases: Mapping[str, str]) -> list[Word]:
    """`replicate`, user aliases, command aliases: the words the catalog reads.

    New words point at the word they replace, so errors still refer to what was typed.
    Raises UsageError for an alias that holds `;` or `|`.
    """
    if words and words[0].value == catalog.PREFIX:
        words = words[1:]
    words = expand_aliases(words, dict(aliases))
    if words and words[0].value == catalog.PREFIX:  # an alias may say `replicate run …`
        words = words[1:]
    found = catalog.command_alias([w.value for w in words[:2]])
    if found is None:
        return words
    target, taken = found
    first = words[0]
    return [_word(value, first) for value in target] + words[taken:]


def resolve(words: list[Word], aliases: Mapping[str, str]) -> tuple[Command, list[Word]]:
    """The command the words name and the words after it; UsageError when none."""
    return find_command(expand(words, aliases))


def parse_line(command: Command, values: list[str], options: Mapping[str, Any] | None) -> tuple[Command, ParsedArgs]:
    """The command's arguments from the words after it (templates expanded or not);
    `… --help` anywhere on the line is `help COMMAND`."""
    args = parse_args(command, values, options)
    if args.values.get("help"):
        command = catalog.TOP_LEVEL["help"]
        args = parse_args(command, list(args.command.path))
    return command, args


def command_line(
    words: list[Word], aliases: Mapping[str, str], options: Mapping[str, Any] | None
) -> tuple[Command, ParsedArgs]:
    """`resolve` then `parse_line`, for a stage read without running it (precheck, save)."""
    command, rest = resolve(words, aliases)
    return parse_line(command, [w.value for w in rest], options)


def find_command(words: list[Word]) -> tuple[Command, list[Word]]:
    """The catalog's look-up over words already expanded."""
    command, rest = catalog.resolve([w.value for w in words])
    tail = words[len(words) - len(rest) :] if rest else []
    if [w.value for w in tail] != rest:  # `model --help` is `help model`: new words
        like = words[0] if words else Word("", 0, 0)
        tail = [_word(value, like) for value in rest]
    return command, tail


def read_head(words: list[Word], aliases: Mapping[str, str]) -> Head:
    """`resolve` for a line still being typed (completion, highlighting); never raises."""
    try:
        words = expand(words, aliases)
    except RshellError:
        return Head(None, [])
    if not words:
        return Head(None, [], empty=True)
    if len(words) == 1 and words[0].value in catalog.GROUP_ALIASES:
        return Head(None, [], group=catalog.GROUP_ALIASES[words[0].value])
    try:
        command, rest = find_command(words)
    except RshellError:
        return Head(None, words)
    return Head(command, rest)


# Commands `save` leaves out: they only show or manage the session (aliases are
# written from the session's own table, so their statements are left out too).
_NOT_REPLAYED = {
    "rerun-line",  # what it ran is kept line by line
    "help",
    "vars",
    "show",
    "history",
    "save",
    "source",
    "status",
    "exit",
    "alias",
    "unalias",
    "preview",
    "open",
}


def replayed(words: list[Word], aliases: Mapping[str, str]) -> bool:
    """Whether `save` keeps a statement whose first stage is `words`."""
    command = read_head(words, aliases).command
    return command is None or command.path[0] not in _NOT_REPLAYED


def _word(value: str, like: Word) -> Word:
    """A word an alias put in place of `like`: same position, nothing substituted in it."""
    return replace(like, value=value, literal=((0, len(value)),), open_quote=None)
