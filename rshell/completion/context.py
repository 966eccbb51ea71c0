"""What fits at the cursor: from the partial line to a list of `Want`s.

Like pgcli's `suggest_type`, this knows nothing of the cache or the API: it reads the
words of the current statement (the grammar's `partial_words`) and the command
declarations of the catalog, and says "a model name goes here", "an input key of
stability-ai/sdxl goes here, except prompt", "a value of --template goes here". The
engine turns each want into candidates. Command names are never hard-coded here:
every command, alias, flag and completion source comes from the catalog.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from rshell.commands.arguments import ParsedArgs, is_input, parse_args
from rshell.commands.registry import Arg, Command, Flag
from rshell.commands.resolver import read_head
from rshell.grammar.lexer import Word
from rshell.grammar.parser import split_binding
from rshell.session.state import Session

# Want kinds, each answered by the engine.
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
class Want:
    """One kind of thing that fits at the cursor.

    `prefix` is what was typed of it (unquoted) and `start` (<= 0) where its raw text
    begins relative to the cursor; completions replace from there.
    """

    kind: str
    prefix: str
    start: int
    command: Command | None = None
    source: str | None = None  # for SOURCE / FLAG_VALUE: a COMPLETION_SOURCES name
    flag: Flag | None = None
    model: str | None = None  # the model reference typed in the line, if any
    key: str | None = None  # the input key whose value is being typed
    deployment: str | None = None  # `--deployment owner/name`: its inputs stand in for a model's
    given: frozenset[str] = frozenset()  # flag dests or input keys already in the line
    sigil: str = ""  # VARIABLE: "$", "{{" or "" (a bare name argument)
    words: tuple[str, ...] = field(default=(), compare=False)  # positionals typed before
    separator: str = "="


def tokens(text_before_cursor: str) -> list[Token]:
    """The current statement's words via the grammar's lexer (which never raises)."""
    from rshell.grammar.lexer import partial_words

    return [Token(w.value, w.start, w.open_quote) for w in partial_words(text_before_cursor)]


def analyse(text_before_cursor: str, session: Session) -> list[Want]:
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
        return [Want(COMMAND, cur.text, -len(raw))]
    if head.group is not None:
        return [Want(SUBCOMMAND, cur.text, -len(raw), source=head.group)]
    if head.command is None:
        return []
    parsed = parse_args(head.command, [w.value for w in head.rest], session.options, tolerant=True)
    return _arguments(parsed, cur, raw)


def _arguments(parsed: ParsedArgs, cur: Token, raw: str) -> list[Want]:
    command = parsed.command
    base: dict[str, Any] = {"command": command, "words": tuple(parsed.positionals), "separator": parsed.separator}
    if parsed.pending is not None:
        return [_flag_value(parsed.pending, cur.text, -len(raw), base)]
    text = cur.text
    if text.startswith("--") and "=" in text:
        name, _, value = text.partition("=")
        flag = command.flag(name)
        if flag is None or not flag.takes_value:
            return []
        return [_flag_value(flag, value, _after(raw, "="), base)]
    if text.startswith("-"):
        return [Want(FLAG, text, -len(raw), given=frozenset(parsed.dests), **base)]
    return _positional(parsed, cur, raw, base)


def _positional(parsed: ParsedArgs, cur: Token, raw: str, base: dict[str, Any]) -> list[Want]:
    command, text, sep = parsed.command, cur.text, parsed.separator
    takes_inputs = any(a.inputs for a in command.args)
    slots = [a for a in command.args if not a.inputs][len(parsed.positionals) :]
    models = parsed.sourced("model")
    model = models[0] if models else None
    deployment = next(iter(parsed.sourced("deployment")), None) if takes_inputs else None
    if deployment is not None and model is None:  # a deployment runs instead of a model
        base["deployment"] = deployment
        slots = [a for a in slots if a.complete != "model"]
    if takes_inputs and is_input(text, sep):
        key, value = text.split(sep, 1)
        return [_input_value(key, value, _after(raw, sep), model, base)]
    if slots:
        if slots[0].complete is None and parsed.positionals and _previous_source(parsed) == "option":
            return [Want(SOURCE, text, -len(raw), source="option_value", **base)]
        return _slot(slots[0], cur, raw, base)
    if takes_inputs:
        return [Want(INPUT_KEY, text, -len(raw), model=model, given=frozenset(parsed.keys), **base)]
    return [Want(FLAG, text, -len(raw), given=frozenset(parsed.dests), **base)]


def _previous_source(parsed: ParsedArgs) -> str | None:
    """The completion source of the last positional already typed."""
    slots = [a for a in parsed.command.args if not a.inputs]
    return slots[len(parsed.positionals) - 1].complete if parsed.positionals else None


def _slot(slot: Arg, cur: Token, raw: str, base: dict[str, Any]) -> list[Want]:
    """A positional argument: by its completion source (paths, models, versions, …)."""
    source = slot.complete
    if source is None:
        return []
    if source == "path":
        return [Want(PATH, cur.text, -len(raw), **base)]
    if source == "variable":
        return [Want(VARIABLE, cur.text, -len(raw), sigil="", **base)]
    if source == "model" and ":" in cur.text:
        model, _, version = cur.text.partition(":")
        return [Want(VERSION, version, _after(raw, ":"), model=model, **base)]
    return [Want(SOURCE, cur.text, -len(raw), source=source, **base)]


def _flag_value(flag: Flag, prefix: str, start: int, base: dict[str, Any]) -> Want:
    source = flag.complete
    if source == "path":
        return Want(PATH, prefix, start, flag=flag, **base)
    return Want(FLAG_VALUE, prefix, start, flag=flag, source=source, **base)


def _input_value(key: str, value: str, start: int, model: str | None, base: dict[str, Any]) -> Want:
    if value.startswith("@"):
        return Want(PATH, value[1:], start + 1, key=key, model=model, **base)
    return Want(INPUT_VALUE, value, start, key=key, model=model, **base)


def _after(raw: str, delimiter: str) -> int:
    """The cursor offset just after the first `delimiter` in the raw word."""
    at = raw.find(delimiter)
    return -(len(raw) - at - len(delimiter)) if at >= 0 else -len(raw)


def _template_or_variable(text: str, raw: str) -> Want | None:
    """`{{ name.pa` (an unclosed template) or `$name.pa` in the word at the cursor."""
    at = text.rfind("{{")
    if at >= 0 and "}}" not in text[at:]:
        expr = _TEMPLATE_OPEN.sub("", text[at:], count=1)
        raw_at = raw.rfind("{{")
        start = -(len(raw) - raw_at - 2 - _leading_space(raw[raw_at + 2 :])) if raw_at >= 0 else -len(expr)
        return Want(VARIABLE, expr, start, sigil="{{")
    at = text.rfind("$")
    if at >= 0 and (at == 0 or not text[at - 1].isalnum()) and _DOLLAR.fullmatch(text[at:]):
        raw_at = raw.rfind("$")
        start = -(len(raw) - raw_at) if raw_at >= 0 else -(len(text) - at)
        return Want(VARIABLE, text[at + 1 :], start, sigil="$")
    return None


def _piped_into(want: Want, text: str, session: Session) -> Want:
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
    return replace(want, command=head.command, model=models[0] if models else None)


def _leading_space(s: str) -> int:
    return len(s) - len(s.lstrip())
