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
from dataclasses import dataclass, field
from typing import Any

from rshell.commands import catalog
from rshell.commands.registry import Arg, Command, Flag
from rshell.errors import RshellError
from rshell.grammar.aliases import alias_words
from rshell.session.state import NAME_RE, Session

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
    given: frozenset[str] = frozenset()  # flag dests or input keys already in the line
    sigil: str = ""  # VARIABLE: "$", "{{" or "" (a bare name argument)
    words: tuple[str, ...] = field(default=(), compare=False)  # positionals typed before
    separator: str = "="


@dataclass
class _Line:
    """The words before the cursor resolved against the catalog."""

    command: Command
    rest: list[str]


def tokens(text_before_cursor: str) -> list[Token]:
    """The current statement's words via the grammar's lexer (which never raises)."""
    from rshell.grammar.lexer import partial_words

    return [Token(w.value, w.start, w.open_quote) for w in partial_words(text_before_cursor)]


def analyse(text_before_cursor: str, session: Session) -> list[Want]:
    """Everything that may go at the cursor, most specific first."""
    toks = tokens(text_before_cursor)
    if not toks:
        toks = [Token("", len(text_before_cursor))]
    if toks[-1].open_quote == "#":
        return []  # inside a comment
    cur, prev = toks[-1], [t.text for t in toks[:-1]]
    raw = text_before_cursor[cur.start :]
    prev = _drop_binding(prev)
    if prev and prev[0].startswith("!"):
        return []  # a system command stage: not ours to complete
    if cur.open_quote != "'":
        special = _template_or_variable(cur.text, raw)
        if special is not None:
            return [special]
    if not prev:
        if cur.text.startswith("!"):
            return []
        return [Want(COMMAND, cur.text, -len(raw))]
    return _after_command(prev, cur, raw, session)


def _drop_binding(words: list[str]) -> list[str]:
    """`img = run …` → `run …`: the binding is not part of the command."""
    if len(words) >= 2 and words[1] == "=" and NAME_RE.match(words[0]):
        return words[2:]
    if words and words[0].endswith("=") and NAME_RE.match(words[0][:-1]):
        return words[1:]
    return words


def expand(words: list[str], session: Session) -> list[str]:
    """Expand a user alias, a leading `replicate` and the catalog's command aliases."""
    if words and words[0] == "replicate":
        words = words[1:]
    used: set[str] = set()
    while words and words[0] in session.aliases and words[0] not in used:
        used.add(words[0])
        try:
            words = [w.value for w in alias_words(words[0], session.aliases[words[0]])] + words[1:]
        except RshellError:
            return words
    return catalog.expand_command_alias(words)


def _after_command(prev: list[str], cur: Token, raw: str, session: Session) -> list[Want]:
    words = expand(prev, session)
    if not words:
        return [Want(COMMAND, cur.text, -len(raw))]
    head = words[0]
    if head in catalog.TOP_LEVEL:
        return _arguments(_Line(catalog.TOP_LEVEL[head], words[1:]), cur, raw, session)
    group = catalog.GROUP_ALIASES.get(head)
    if group is None:
        return []
    if len(words) == 1:
        return [Want(SUBCOMMAND, cur.text, -len(raw), source=group)]
    command = catalog.BY_PATH.get((group, words[1]))
    if command is None:
        return []
    return _arguments(_Line(command, words[2:]), cur, raw, session)


@dataclass
class _Walk:
    """What the words after the command already hold."""

    dests: set[str] = field(default_factory=set)
    positionals: list[str] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    pending: Flag | None = None  # a flag waiting for its value (the cursor's word)
    separator: str = "="
    flag_values: dict[str, str] = field(default_factory=dict)


def _walk(command: Command, rest: list[str], session: Session) -> _Walk:
    """Replay the argument parser's rules over complete words, never raising."""
    walk = _Walk(separator=_separator(command, rest, session))
    takes_inputs = any(a.inputs for a in command.args)
    slots = sum(1 for a in command.args if not a.inputs)
    for word in rest:
        if walk.pending is not None:
            walk.flag_values[walk.pending.name] = word
            walk.pending = None
            continue
        if word.startswith("-") and word not in ("-", "--"):
            name, eq, value = word.partition("=")
            if not word.startswith("--") and len(name) > 2:
                name, eq, value = word[:2], "=", word[2:]  # `-dme/model`: a short flag's value attached
            flag = command.flag(name)
            if flag is not None:
                walk.dests.add(flag.dest)
                if flag.takes_value and not eq:
                    walk.pending = flag
                elif eq:
                    walk.flag_values[flag.name] = value
                continue
            if word.startswith("--"):
                continue
        sep = walk.separator
        looks_like_input = takes_inputs and sep in word and not word.startswith(sep)
        if len(walk.positionals) < slots and not looks_like_input:
            walk.positionals.append(word)
        elif takes_inputs and sep in word:
            walk.keys.add(word.split(sep, 1)[0])
    return walk


def _separator(command: Command, rest: list[str], session: Session) -> str:
    """The input separator: `--separator X` in the line, else the session's option."""
    for i, word in enumerate(rest):
        if word.startswith("--separator="):
            return word.split("=", 1)[1] or "="
        if word == "--separator" and i + 1 < len(rest) and rest[i + 1]:
            return rest[i + 1]
    value = session.options.get("separator") if command.flag("--separator") else None
    return str(value or "=")


def _arguments(line: _Line, cur: Token, raw: str, session: Session) -> list[Want]:
    command = line.command
    walk = _walk(command, line.rest, session)
    base: dict[str, Any] = {"command": command, "words": tuple(walk.positionals), "separator": walk.separator}
    if walk.pending is not None:
        return [_flag_value(walk.pending, cur.text, -len(raw), base)]
    text = cur.text
    if text.startswith("--") and "=" in text:
        name, _, value = text.partition("=")
        flag = command.flag(name)
        if flag is None or not flag.takes_value:
            return []
        return [_flag_value(flag, value, _after(raw, "="), base)]
    if text.startswith("-"):
        return [Want(FLAG, text, -len(raw), given=frozenset(walk.dests), **base)]
    return _positional(command, walk, cur, raw, base)


def _positional(command: Command, walk: _Walk, cur: Token, raw: str, base: dict[str, Any]) -> list[Want]:
    text, sep = cur.text, walk.separator
    takes_inputs = any(a.inputs for a in command.args)
    positionals = [a for a in command.args if not a.inputs]
    slots = positionals[len(walk.positionals) :]
    if not slots and positionals and positionals[-1].many:
        slots = positionals[-1:]  # `prediction wait ID ID…`: one more of the same kind
    model = _model_in(command, walk)
    if takes_inputs and sep in text and not text.startswith(sep):
        key, value = text.split(sep, 1)
        return [_input_value(key, value, _after(raw, sep), model, base)]
    if slots:
        if slots[0].complete is None and walk.positionals and _previous_source(command, walk) == "option":
            return [Want(SOURCE, text, -len(raw), source="option_value", **base)]
        return _slot(slots[0], cur, raw, walk, base)
    if takes_inputs:
        return [Want(INPUT_KEY, text, -len(raw), model=model, given=frozenset(walk.keys), **base)]
    return [Want(FLAG, text, -len(raw), given=frozenset(walk.dests), **base)]


def _previous_source(command: Command, walk: _Walk) -> str | None:
    """The completion source of the last positional already typed."""
    slots = [a for a in command.args if not a.inputs]
    return slots[len(walk.positionals) - 1].complete if walk.positionals else None


def _slot(slot: Arg, cur: Token, raw: str, walk: _Walk, base: dict[str, Any]) -> list[Want]:
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


def _model_in(command: Command, walk: _Walk) -> str | None:
    """The model reference already typed (first model-sourced slot), if any."""
    slots = [a for a in command.args if not a.inputs]
    for arg, word in zip(slots, walk.positionals, strict=False):  # while typing, words and slots differ in number
        if arg.complete == "model":
            return word
    return None


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


def _leading_space(s: str) -> int:
    return len(s) - len(s.lstrip())


def models_named(statement: str, session: Session) -> list[str]:
    """The `owner/name` models a past statement ran or named (for "recent" models).

    Only words in a model-sourced argument or flag count, so `files upload a/b.zip`
    does not make `a/b.zip` a model.
    """
    from rshell.commands.modelref import MODEL_RE
    from rshell.grammar.lexer import tokenize

    try:
        tokens_ = tokenize(statement)
    except RshellError:
        return []
    found: list[str] = []
    stage: list[str] = []
    for token in tokens_ + [None]:
        if token is not None and token.word is not None:
            stage.append(token.word.value)
            continue
        found.extend(_stage_models(stage, session))
        stage = []
    return [f"{m['owner']}/{m['name']}" for m in map(MODEL_RE.match, found) if m]


def _stage_models(words: list[str], session: Session) -> list[str]:
    words = expand(_drop_binding(words), session)
    try:
        command, rest = catalog.resolve(words)
    except RshellError:
        return []
    walk = _walk(command, rest, session)
    slots = [a for a in command.args if not a.inputs]
    found = [word for arg, word in zip(slots, walk.positionals, strict=False) if arg.complete == "model"]
    found += [value for name, value in walk.flag_values.items() if (f := command.flag(name)) and f.complete == "model"]
    return found
