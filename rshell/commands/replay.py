"""What `save` writes: the statements of a session that replay.

A saved script is run again later, from a fresh start: it keeps the statements that
change or produce something (creates, runs, trainings, uploads, options), and those
that only read (`model list`, `model schema`) or cannot run twice (`scaffold` into a
folder that now exists, `auth login`) are left out, each with its reason, so the user
sees what the file does not hold. A statement that binds a name is kept whatever it
is (it produces a named result); one whose result a later statement uses also waits
(its `--no-wait` dropped). A training followed
by more statements gets `--wait`: the `run` of the version it creates would otherwise
find no version yet.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from rshell.commands.arguments import ParsedArgs
from rshell.commands.registry import Command
from rshell.errors import RshellError
from rshell.grammar.lexer import Word, quote
from rshell.grammar.parser import Statement, parse_script
from rshell.grammar.templates import references

_AT_PATH = re.compile(r"@[^@~/\s]\S*\Z")  # a bare `@FILE` (`--input-json @rows.json`)
SECRET = "holds a token: credentials stay out of scripts"
SYSTEM = "a system command: add it by hand if the script needs it"
_MASK = "…"


def masked(text: str) -> str:
    """A statement holding a token as `save` may list it: its first words, the rest masked."""
    words = text.split()
    keep = 3 if words[1:2] == ["="] else 1
    return " ".join(words[:keep] + [_MASK])


class Replay(msgspec.Struct):
    kept: list[str] = msgspec.field(default_factory=list)
    left_out: list[tuple[str, str]] = msgspec.field(default_factory=list)  # (statement, why)


def replayable(
    texts: list[str], aliases: dict[str, str], options: Mapping[str, Any], moved: tuple[Path, Path] | None = None
) -> Replay:
    """The statements of `texts` a script should hold, `--wait` added where needed.

    `moved` = (where the statements ran, the script's folder): a script's relative
    paths (`@paths`, and the arguments the catalog declares paths: `files upload
    note.txt`) start at its own folder, so they are rewritten to point at the same files.
    """
    if moved is not None and moved[0] != moved[1]:
        texts = [_rebased(text, _statement(text), *moved, aliases, options) for text in texts]
    parsed = [(text, _statement(text)) for text in texts]
    used = [_names_used(statement, aliases) for _, statement in parsed]
    replay = Replay()
    for index, (text, statement) in enumerate(parsed):
        commands = _commands(statement, aliases, options)
        needed = (
            statement is not None
            and statement.target is not None
            and any(statement.target in later for later in used[index + 1 :])
        )
        why = None if needed or _binds(statement) else _why_left_out(statement, commands)
        if text.endswith(" " + _MASK):
            why = SECRET  # what the executor kept of a line holding a token
        if why:
            replay.left_out.append((text, why))
            continue
        if needed:
            text = _waiting(text, statement)
        text = _exist_ok(text, statement, commands)
        later = index + 1 < len(parsed)
        replay.kept.append(_with_wait(text, statement, commands) if later else text)
    return replay


def _waiting(text: str, statement: Statement | None) -> str:
    """A run whose result a later line uses must finish first: its `--no-wait` goes."""
    words = statement.pipeline[0].words if statement and statement.pipeline else []
    found = next((w for w in words if w.value == "--no-wait" and text[w.start : w.end] == "--no-wait"), None)
    if found is None:
        return text
    return (text[: found.start].rstrip() + " " + text[found.end :].lstrip()).strip()


def _binds(statement: Statement | None) -> bool:
    """`NAME = …` produces a named result, which the replayed session holds too."""
    return statement is not None and statement.target is not None


def _statement(text: str) -> Statement | None:
    try:
        statements = parse_script(text)
    except RshellError:
        return None
    return statements[0] if len(statements) == 1 else None


def _commands(
    statement: Statement | None, aliases: dict[str, str], options: Mapping[str, Any]
) -> list[tuple[Command, ParsedArgs]]:
    """The commands of the statement's stages (those that still read as one)."""
    from rshell.commands.resolver import command_line

    found: list[tuple[Command, ParsedArgs]] = []
    for node in statement.pipeline if statement else []:
        if node.system is not None:
            continue
        try:
            found.append(command_line(node.words, aliases, options))
        except RshellError:
            continue
    return found


def _names_used(statement: Statement | None, aliases: dict[str, str]) -> set[str]:
    if statement is None:
        return set()
    names: set[str] = set()
    for node in statement.pipeline:
        for word in node.words:
            try:
                names.update(ref.name for ref in references(word) if ref.name)
            except RshellError:
                continue
    return names


def _why_left_out(statement: Statement | None, commands: list[tuple[Command, ParsedArgs]]) -> str | None:
    """Why a statement is not replayed, as its commands declare (`Command.save`); None to keep it."""
    if statement is not None and all(node.system is not None for node in statement.pipeline):
        return SYSTEM
    if not commands:
        return None  # what no longer reads: kept as the user wrote it
    reasons = [_why(command, args) for command, args in commands]
    if any(kind == "never" for kind, _ in reasons):
        return next(why for kind, why in reasons if kind == "never")
    if all(kind in ("reads", "shows") for kind, _ in reasons):
        return reasons[0][1]
    return None


def _why(command: Command, args: ParsedArgs) -> tuple[str, str]:
    """(save kind, reason) of one stage; `set` of a display option changes nothing a script does."""
    if command.scope == "set":
        from rshell.session.state import OPTIONS

        option = OPTIONS.get(str(args.get("option", "")))
        if not args.get("option") or args.get("value") is None:
            return "reads", "only shows something"
        if option is not None and option.display:
            return "reads", "only changes the interactive display"
    return command.save.kind, command.save.reason


def _with_wait(text: str, statement: Statement | None, commands: list[tuple[Command, ParsedArgs]]) -> str:
    """A training that later statements may depend on waits for its end."""
    if statement is None or len(statement.pipeline) != 1 or not commands:
        return text
    command = commands[0][0]
    if command.kind != "training" or command.inputs_arg is None:
        return text
    words = statement.pipeline[0].words
    if not words or any(w.value == "--wait" or w.value.startswith("--wait=") for w in words):
        return text
    end = words[-1].end  # after the last word: before a trailing comment
    return f"{text[:end]} --wait{text[end:]}"


def _rebased(
    text: str,
    statement: Statement | None,
    ran_in: Path,
    folder: Path,
    aliases: dict[str, str],
    options: Mapping[str, Any],
) -> str:
    """`text` with each plain relative `@path` (a file input, as the line's reading
    splits it, or a bare `@FILE`) and path argument made relative to `folder` instead."""
    if statement is None:
        return text
    words = [w for node in statement.pipeline for w in node.words if text[w.start : w.end] == w.value]
    paths: dict[tuple[int, int], str] = {}  # where a path starts in a word, by the word's place
    for node in statement.pipeline:
        paths.update(_paths(node.words, aliases, options))
    for word in sorted(words, key=lambda w: w.start, reverse=True):
        at = paths.get((word.start, word.end), "@" if _AT_PATH.match(word.value) else None)
        if at is None or _is_template(word):
            continue
        head, path = word.value[: len(at)], word.value[len(at) :]
        if path.startswith(("@", "~", "/")) or not path or os.path.isabs(os.path.expanduser(path)):
            continue
        text = f"{text[: word.start]}{_quoted(head + os.path.relpath(ran_in / path, folder), head)}{text[word.end :]}"
    return text


def _quoted(value: str, head: str) -> str:
    """A path argument is quoted as a word; `key=@path` and `@path` as they were typed."""
    return value if head else quote(value)


def _paths(words: list[Word], aliases: dict[str, str], options: Mapping[str, Any]) -> dict[tuple[int, int], str]:
    """The words of a stage that name local paths, by their place, each with what comes
    before its path: the file inputs as the line's reading splits them (`image=@`), and
    the positionals the catalog declares paths (`Arg.complete`: nothing before it)."""
    from rshell.commands.arguments import parse_args
    from rshell.commands.resolver import resolve

    try:
        command, rest = resolve(words, aliases)
    except RshellError:
        return {}
    args = parse_args(command, [w.value for w in rest], options, tolerant=True)  # `run {{m}} …` reads too
    found: dict[tuple[int, int], str] = {}
    wanted = [value for arg, value in zip(command.args, args.positionals, strict=False) if arg.complete == "path"]
    for value in wanted:
        word = next((w for w in rest if w.value == value and (w.start, w.end) not in found), None)
        if word is not None:
            found[(word.start, word.end)] = ""
    if command.inputs_arg is not None:
        files = {
            word: given.key + args.separator + "@"
            for word, given in zip(args.inputs, args.split, strict=True)
            if given.file
        }
        found.update({(w.start, w.end): files[w.value] for w in rest if w.value in files})
    return found


def _is_template(word: Word) -> bool:
    try:
        return bool(references(word))
    except RshellError:
        return True


def _exist_ok(text: str, statement: Statement | None, commands: list[tuple[Command, ParsedArgs]]) -> str:
    """A model or deployment the session created is there when the script replays: the
    switch its declaration's `save.adds` names (`--exist-ok`) takes it, when it matches,
    instead of stopping at the 409."""
    if statement is None or len(statement.pipeline) != 1 or not commands:
        return text
    switch = commands[0][0].save.adds
    words = statement.pipeline[0].words
    if not switch or not words or any(w.value == switch for w in words):
        return text
    end = words[-1].end  # after the last word: before a trailing comment
    return f"{text[:end]} {switch}{text[end:]}"
