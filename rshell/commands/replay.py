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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rshell.commands.registry import Command
from rshell.errors import RshellError
from rshell.grammar.lexer import KEY, Word, quote
from rshell.grammar.parser import Statement, parse_script
from rshell.grammar.templates import references

# Verbs of commands that only read: replaying them changes nothing.
_READS = frozenset({"list", "show", "schema", "search", "versions", "readme", "examples", "current", "secret"})
_FILE_WORD = re.compile(rf"(?P<key>{KEY.pattern}=)?@(?P<path>[^@~/][^\s]*)\Z")  # key=@rel/path
_LEFT_OUT = {
    "scaffold": "writes a project folder once (it exists now)",
    "auth": "signs in or out: credentials stay out of scripts",
    "completion": "prints a completion script",
    "webhooks": "reads, checks or receives webhooks: nothing to make again",
}


@dataclass
class Replay:
    kept: list[str] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (statement, why)


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
        why = None if needed or _binds(statement) else _why_left_out(commands)
        if why:
            replay.left_out.append((text, why))
            continue
        if needed:
            text = _waiting(text, statement)
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


def _commands(statement: Statement | None, aliases: dict[str, str], options: Mapping[str, Any]) -> list[Command]:
    """The commands of the statement's stages (those that still read as one)."""
    from rshell.commands.resolver import command_line

    found: list[Command] = []
    for node in statement.pipeline if statement else []:
        if node.system is not None:
            continue
        try:
            found.append(command_line(node.words, aliases, options)[0])
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


def _why_left_out(commands: list[Command]) -> str | None:
    """Why a statement is not replayed; None to keep it."""
    if not commands:
        return None  # `!cmd` stages, or what no longer reads: kept as the user wrote it
    for command in commands:
        if command.path[0] in _LEFT_OUT:
            return _LEFT_OUT[command.path[0]]
    if all(command.path[-1] in _READS for command in commands):
        return "only reads"
    return None


def _with_wait(text: str, statement: Statement | None, commands: list[Command]) -> str:
    """A training that later statements may depend on waits for its end."""
    if statement is None or len(statement.pipeline) != 1 or not commands:
        return text
    if commands[0].path != ("training", "create"):
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
    """`text` with each plain relative `@path` and path argument made relative to `folder` instead."""
    if statement is None:
        return text
    words = [w for node in statement.pipeline for w in node.words if text[w.start : w.end] == w.value]
    paths = {(w.start, w.end) for node in statement.pipeline for w in _path_arguments(node.words, aliases, options)}
    for word in sorted(words, key=lambda w: w.start, reverse=True):
        match = _FILE_WORD.match(word.value)
        if match is not None:
            path = os.path.relpath(ran_in / match.group("path"), folder)
            text = f"{text[: word.start]}{match.group('key') or ''}@{path}{text[word.end :]}"
        elif (word.start, word.end) in paths and not os.path.isabs(os.path.expanduser(word.value)):
            text = f"{text[: word.start]}{quote(os.path.relpath(ran_in / word.value, folder))}{text[word.end :]}"
    return text


def _path_arguments(words: list[Word], aliases: dict[str, str], options: Mapping[str, Any]) -> list[Word]:
    """The words that filled a positional the catalog declares a path (`Arg.complete`)."""
    from rshell.commands.resolver import parse_line, resolve

    try:
        command, rest = resolve(words, aliases)
        _, args = parse_line(command, [w.value for w in rest], options)
    except RshellError:
        return []
    wanted = [value for arg, value in zip(command.args, args.positionals, strict=False) if arg.complete == "path"]
    found: list[Word] = []
    for value in wanted:
        word = next((w for w in rest if w.value == value and w not in found and not _is_template(w)), None)
        if word is not None:
            found.append(word)
    return found


def _is_template(word: Word) -> bool:
    try:
        return bool(references(word))
    except RshellError:
        return True
