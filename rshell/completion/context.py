"""What fits at the cursor: from the partial line to a list of typed `Suggestion`s.

Like pgcli's `suggest_type`, this knows nothing of the cache or the API: it reads the
words of the current statement (the grammar's `partial_words`) the way the executor
does (the resolver finds the command, `parse_args(tolerant=True)` reads its
arguments) and says "a model name goes here", "an input key of stability-ai/sdxl
goes here, except prompt", "a value of --template goes here", one suggestion type
each. The engine turns each suggestion into candidates. Command names are never
hard-coded here: every command, alias, flag and completion source comes from the
catalog.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import ClassVar

from rshell.commands.arguments import ParsedArgs, is_input, parse_args
from rshell.commands.registry import Arg, Command, Flag
from rshell.commands.resolver import read_head
from rshell.grammar.lexer import Word
from rshell.grammar.parser import split_binding
from rshell.session.state import Session

# Suggestion kinds (each class's `kind`), for logs and tests.
COMMAND = "command"  # the first word: commands, groups, aliases
SUBCOMMAND = "subcommand"  # the word after a group: `model sc` → schema
FLAG = "flag"  # a `--flag` of the command not given yet
FLAG_VALUE = "flag_value"  # the value of a flag: choices or its completion source
SOURCE = "source"  # a positional argument's completion source (model, prediction, …)
VERSION = "version"  # after `owner/name:`
INPUT_KEY = "input_key"  # a `key=` of the model's input schema
INPUT_VALUE = "input_value"  # enum values and booleans after `key=`
PATH = "path"  # local paths (after `@`, and path-typed arguments)
VARIABLE = "variable"  # `$name.path`, `{{ name.path`, and variable arguments

_TEMPLATE_OPEN = re.compile(r"\{\{\s*")
_DOLLAR = re.compile(r"\$(?:[A-Za-z_][^\s$]*)?")


@dataclass(frozen=True)
class Token:
    """A word at the cursor: unquoted text, where its raw text starts, its open quote."""

    text: str
    start: int
    open_quote: str | None = None


@dataclass(frozen=True)
class Site:
    """What the line runs, for the suggestions that depend on it (pgcli's scope)."""

    command: Command | None = None
    model: str | None = None  # the model reference typed (or, for `{{.`, piped in)
    deployment: str | None = None  # `--deployment owner/name`: its inputs stand in for a model's
    words: tuple[str, ...] = ()  # positionals typed before the cursor
    separator: str = "="


@dataclass(frozen=True)
class Suggestion:
    """One kind of thing that fits at the cursor (pgcli's suggestion types).

    `prefix` is what was typed of it (unquoted) and `start` (<= 0) where its raw text
    begins relative to the cursor; completions replace from there.
    """

    prefix: str
    start: int
    kind: ClassVar[str] = ""

    def __init_subclass__(cls, kind: str = "", **rest: object) -> None:
        super().__init_subclass__(**rest)
        cls.kind = kind


@dataclass(frozen=True)
class CommandName(Suggestion, kind=COMMAND):
    """The first word: a command, a group or an alias."""


@dataclass(frozen=True)
class Subcommand(Suggestion, kind=SUBCOMMAND):
    group: str = ""


@dataclass(frozen=True)
class FlagName(Suggestion, kind=FLAG):
    command: Command | None = None
    given: frozenset[str] = frozenset()  # dests of the flags already given


@dataclass(frozen=True)
class FlagValue(Suggestion, kind=FLAG_VALUE):
    flag: Flag | None = None
    command: Command | None = None


@dataclass(frozen=True)
class SourceValue(Suggestion, kind=SOURCE):
    source: str = ""  # a name in completion/sources.py, or "option_value"
    site: Site = Site()


@dataclass(frozen=True)
class Version(Suggestion, kind=VERSION):
    model: str = ""


@dataclass(frozen=True)
class InputKey(Suggestion, kind=INPUT_KEY):
    site: Site = Site()
    given: frozenset[str] = frozenset()  # input keys already given


@dataclass(frozen=True)
class InputValue(Suggestion, kind=INPUT_VALUE):
    site: Site = Site()
    key: str = ""


@dataclass(frozen=True)
class LocalPath(Suggestion, kind=PATH):
    """A local path: after `@`, or for a path argument or flag."""


@dataclass(frozen=True)
class Variable(Suggestion, kind=VARIABLE):
    sigil: str = ""  # "$", "{{" or "" (a bare name argument)
    site: Site = Site()  # for `{{.…`: the stage piped in


def tokens(text_before_cursor: str) -> list[Token]:
    """The current statement's words via the grammar's lexer (which never raises)."""
    from rshell.grammar.lexer import partial_words

    return [Token(w.value, w.start, w.open_quote) for w in partial_words(text_before_cursor)]


def analyse(text_before_cursor: str, session: Session) -> list[Suggestion]:
    """Everything that may go at the cursor, most specific first."""
    from rshell.grammar.lexer import partial_words

    words = partial_words(text_before_cursor) or [Word("", len(text_before_cursor), len(text_before_cursor))]
    cur_word = words[-1]
    if cur_word.open_quote == "#":
        return []  # inside a comment
    cur = Token(cur_word.value, cur_word.start, cur_word.open_quote)
    raw = text_before_cursor[cur.start :]
    prev = split_binding(text_before_cursor, words[:-1])[1]
    if prev and prev[0].value.startswith("!"):
        return []  # a system command stage: not ours to complete
    if cur.open_quote != "'":
        special = _template_or_variable(cur.text, raw)
        if special is not None:
            return [_piped_into(special, text_before_cursor, session)]
    if not prev and cur.text.startswith("!"):
        return []
    head = read_head(prev, session.aliases)
    if head.empty:
        return [CommandName(cur.text, -len(raw))]
    if head.group is not None:
        return [Subcommand(cur.text, -len(raw), group=head.group)]
    if head.command is None:
        return []
    parsed = parse_args(head.command, [w.value for w in head.rest], session.options, tolerant=True)
    return _arguments(parsed, cur, raw)


def _arguments(parsed: ParsedArgs, cur: Token, raw: str) -> list[Suggestion]:
    command = parsed.command
    if parsed.pending is not None:
        return [_flag_value(parsed.pending, cur.text, -len(raw), command)]
    text = cur.text
    if text.startswith("--") and "=" in text:
        name, _, value = text.partition("=")
        flag = command.flag(name)
        if flag is None or not flag.takes_value:
            return []
        return [_flag_value(flag, value, _after(raw, "="), command)]
    if text.startswith("-"):
        return [FlagName(text, -len(raw), command=command, given=frozenset(parsed.dests))]
    return _positional(parsed, cur, raw)


def _positional(parsed: ParsedArgs, cur: Token, raw: str) -> list[Suggestion]:
    command, text, sep = parsed.command, cur.text, parsed.separator
    takes_inputs = any(a.inputs for a in command.args)
    positionals = [a for a in command.args if not a.inputs]
    slots = positionals[len(parsed.positionals) :]
    if not slots and positionals and positionals[-1].many:
        slots = positionals[-1:]  # `prediction wait ID ID…`: one more of the same kind
    models = parsed.sourced("model")
    model = models[0] if models else None
    deployment = next(iter(parsed.sourced("deployment")), None) if takes_inputs else None
    if deployment is not None and model is None:  # a deployment runs instead of a model
        slots = [a for a in slots if a.complete != "model"]
    else:
        deployment = None
    site = Site(command, model, deployment, tuple(parsed.positionals), sep)
    if takes_inputs and is_input(text, sep):
        key, value = text.split(sep, 1)
        if "," in value and raw == text and not value.startswith(("[", "{", "@")):  # a sweep's list: its next item
            item = value.rsplit(",", 1)[1]
            return [InputValue(item, -len(item), site=site, key=key)]
        return [_input_value(key, value, _after(raw, sep), site)]
    if slots:
        if slots[0].complete is None and parsed.positionals and _previous_source(parsed) == "option":
            return [SourceValue(text, -len(raw), source="option_value", site=site)]
        return _slot(slots[0], cur, raw, site)
    if takes_inputs:
        return [InputKey(text, -len(raw), site=site, given=frozenset(parsed.keys))]
    return [FlagName(text, -len(raw), command=command, given=frozenset(parsed.dests))]


def _previous_source(parsed: ParsedArgs) -> str | None:
    """The completion source of the last positional already typed."""
    slots = [a for a in parsed.command.args if not a.inputs]
    if not parsed.positionals or not slots:
        return None
    return slots[min(len(parsed.positionals), len(slots)) - 1].complete  # the last may take many


def _slot(slot: Arg, cur: Token, raw: str, site: Site) -> list[Suggestion]:
    """A positional argument: by its completion source (paths, models, versions, …)."""
    source = slot.complete
    if source is None:
        return []
    if source == "path":
        return [LocalPath(cur.text, -len(raw))]
    if source == "variable":
        return [Variable(cur.text, -len(raw), sigil="")]
    if source == "model" and ":" in cur.text:
        model, _, version = cur.text.partition(":")
        return [Version(version, _after(raw, ":"), model=model)]
    return [SourceValue(cur.text, -len(raw), source=source, site=site)]


def _flag_value(flag: Flag, prefix: str, start: int, command: Command) -> Suggestion:
    if flag.complete == "path":
        if prefix.startswith("@"):  # `--input-json @inputs.json`, `--readme @README.md`
            return LocalPath(prefix[1:], start + 1)
        return LocalPath(prefix, start)
    return FlagValue(prefix, start, flag=flag, command=command)


def _input_value(key: str, value: str, start: int, site: Site) -> Suggestion:
    if value.startswith("@"):
        return LocalPath(value[1:], start + 1)
    return InputValue(value, start, site=site, key=key)


def _after(raw: str, delimiter: str) -> int:
    """The cursor offset just after the first `delimiter` in the raw word."""
    at = raw.find(delimiter)
    return -(len(raw) - at - len(delimiter)) if at >= 0 else -len(raw)


def _template_or_variable(text: str, raw: str) -> Variable | None:
    """`{{ name.pa` (an unclosed template) or `$name.pa` in the word at the cursor."""
    at = text.rfind("{{")
    if at >= 0 and "}}" not in text[at:]:
        expr = _TEMPLATE_OPEN.sub("", text[at:], count=1)
        raw_at = raw.rfind("{{")
        start = -(len(raw) - raw_at - 2 - _leading_space(raw[raw_at + 2 :])) if raw_at >= 0 else -len(expr)
        return Variable(expr, start, sigil="{{")
    at = text.rfind("$")
    if at >= 0 and (at == 0 or not text[at - 1].isalnum()) and _DOLLAR.fullmatch(text[at:]):
        raw_at = raw.rfind("$")
        start = -(len(raw) - raw_at) if raw_at >= 0 else -(len(text) - at)
        return Variable(text[at + 1 :], start, sigil="$")
    return None


def _piped_into(want: Variable, text: str, session: Session) -> Variable:
    """`{{.…` reads the stage piped in: say which command (and model) that stage runs."""
    if want.sigil != "{{" or not want.prefix.startswith("."):
        return want
    from rshell.grammar.lexer import piped_stage

    stage = piped_stage(text)
    head = read_head(split_binding(text, stage)[1], session.aliases)
    if head.command is None:
        return want
    parsed = parse_args(head.command, [w.value for w in head.rest], session.options, tolerant=True)
    models = parsed.sourced("model")
    return replace(want, site=Site(head.command, models[0] if models else None))


def _leading_space(s: str) -> int:
    return len(s) - len(s.lstrip())
