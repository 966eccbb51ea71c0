"""Turn the words after a command's name into its arguments, per its declaration."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from rshell.commands.registry import HELP_WORDS, Command, Flag, unknown
from rshell.errors import UsageError
from rshell.grammar.inputs import Input, read_input

if TYPE_CHECKING:
    from rshell.commands.modelref import RunTarget

_CONVERT = {"str": str, "int": int, "float": float}
_TYPE_NAMES = {"str": "a string", "int": "an integer", "float": "a number"}
_SHORT_RE = re.compile(r"-[A-Za-z]")
# A switch's `=value`, spelled as Go's strconv.ParseBool reads it (the official CLI's flags).
_BOOLS = dict.fromkeys(("1", "t", "T", "true", "TRUE", "True"), True) | dict.fromkeys(
    ("0", "f", "F", "false", "FALSE", "False"), False
)


class ParsedArgs(msgspec.Struct):
    """A command's arguments: positionals and flags by name/dest, and raw inputs.

    `inputs` keeps the `key=value` words as typed and `split` the same words read
    once (`grammar.inputs.Input`): precheck, schemacheck and the handlers read `split`
    (coerced against the model's schema with `rshell.grammar.inputs`); only a word
    holding a template gets its value at run time (`resolver.Plan.run_args`). `target`
    is a run's model reference, read once (`modelref.read_target`).
    The rest is the state a tolerant parse reports at the cursor (see `parse_args`).
    """

    command: Command
    values: dict[str, Any] = msgspec.field(default_factory=dict)
    inputs: list[str] = msgspec.field(default_factory=list)
    split: list[Input] = msgspec.field(default_factory=list)  # `inputs`, each split once
    target: RunTarget | None = None  # what a run names (a model or deployment; a training's destination)
    given: set[str] = msgspec.field(default_factory=set)  # long names of the flags on the line
    positionals: list[str] = msgspec.field(default_factory=list)  # words that filled the argument slots
    raw: dict[str, str] = msgspec.field(default_factory=dict)  # flag dest -> its value as typed
    pending: Flag | None = None  # tolerant: the last word is a flag still waiting for its value
    separator: str = "="  # the input separator in force

    def __getattr__(self, name: str) -> Any:
        try:
            values = object.__getattribute__(self, "values")  # not self.values: no recursion before it is set
            return values[name]
        except KeyError:
            raise AttributeError(name) from None

    def get(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name)
        return default if value is None else value

    @property
    def dests(self) -> set[str]:
        """The dests of the flags given: `--wait` also rules out `--no-wait`."""
        return {f.dest for name in self.given if (f := self.command.flag(name)) is not None}

    @property
    def keys(self) -> set[str]:
        """The input keys already given."""
        return {given.key for given in self.split}

    def sourced(self, source: str) -> list[str]:
        """The words given for arguments and flags completed from `source` (e.g. "model")."""
        slots = [a for a in self.command.args if not a.inputs]
        found = [w for a, w in zip(slots, self.positionals, strict=False) if a.complete == source]
        return found + [v for f in self.command.all_flags if f.complete == source and (v := self.raw.get(f.dest))]


def parse_args(
    command: Command, words: list[str], options: Mapping[str, Any] | None = None, *, tolerant: bool = False
) -> ParsedArgs:
    """Parse `words` for `command`; raise UsageError naming the bad word.

    `options` are the session's `set` options: a flag left unset whose dest names one
    (separator, file_encoding) takes the session's value before the declared default.
    `--help`/`-h` anywhere wins over every other problem of the line: the caller
    shows the command's help instead of running it.

    `tolerant` is completion's reading of the words before the cursor, by the same
    rules: it never raises, skips what it cannot read, and says which flag still
    waits for its value (`pending`).
    """
    parsed = ParsedArgs(command, {})
    positionals = _take_flags(command, words, parsed, tolerant)
    for f in command.all_flags:
        if parsed.values.get(f.dest) is None:
            fallback = (options or {}).get(f.dest)
            parsed.values[f.dest] = fallback if fallback is not None and f.takes_value else command.defaults.get(f.dest)
    for key, value in command.defaults.items():
        parsed.values.setdefault(key, value)
    parsed.separator = str(parsed.values.get("separator") or "=")
    if tolerant:
        _take_positionals(command, positionals, parsed, tolerant=True)
        return parsed
    if parsed.values.get("help"):
        return parsed
    _check_exclusive(command, parsed)
    _take_positionals(command, positionals, parsed)
    for f in command.flags:
        if f.required and parsed.values.get(f.dest) is None:
            raise UsageError(f"{command.name} needs {f.name} {f.metavar or 'VALUE'}", f"{f.name}: {f.help}")
    if command.inputs_arg is not None:
        from rshell.commands.modelref import read_target

        parsed.target = read_target(command, parsed.values)
    return parsed


def _spelling(word: str) -> tuple[str, str, str] | None:
    """(name, "=" or "", value) when `word` is written as a flag: `--name[=v]`, `-x`,
    `-x=v` or `-xv`; None for anything else (`-`, `-1`, `key=-x`)."""
    if word.startswith("--"):
        return word.partition("=")
    if _SHORT_RE.match(word):
        rest = word[2:]
        if rest.startswith("="):
            return word[:2], "=", rest[1:]
        return word[:2], "=" if rest else "", rest
    return None


def _take_flags(command: Command, words: list[str], parsed: ParsedArgs, tolerant: bool = False) -> list[str]:
    """Take every flag out of `words` (a `--` ends them); the positionals remain.

    The first bad flag is raised only after the whole line is read, so a `--help`
    later on the line still gets its help; a tolerant parse skips it."""
    rest: list[str] = []
    problem: UsageError | None = None
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            rest += words[i + 1 :]
            break
        spelled = _spelling(word)
        if spelled is None:
            rest.append(word)
            i += 1
            continue
        try:
            i = _take_flag(command, spelled, words, i, parsed, tolerant)
        except UsageError as error:
            problem = problem or error
            i += 1
    if problem is not None and not parsed.values.get("help") and not tolerant:
        raise problem
    return rest


def _take_flag(
    command: Command, spelled: tuple[str, str, str], words: list[str], i: int, parsed: ParsedArgs, tolerant: bool
) -> int:
    """Store one flag (words[i], and its value word if it takes one); the next index.

    Tolerant: a value flag ending the words is `pending`, a bad value is kept as typed."""
    name, eq, value = spelled
    flag = command.flag(name)
    if flag is None:
        names = [f.name for f in command.all_flags] + [f.short for f in command.all_flags if f.short]
        raise unknown("flag", name, names, f"for `{command.name}`")
    if flag.optional and not eq and i + 1 < len(words) and _is_number(words[i + 1]):
        eq, value, i = "=", words[i + 1], i + 1  # `--wait 30`: a following number is its value
    if flag.takes_value:
        if not eq:
            if tolerant and i + 1 >= len(words):
                parsed.pending = flag
                parsed.given.add(flag.name)
                return i + 1
            if i + 1 >= len(words) or words[i + 1] in HELP_WORDS:  # `-d --help` asks for help
                raise UsageError(f"{name} needs a value", f"{name} {flag.metavar or 'VALUE'}: {flag.help}")
            value, i = words[i + 1], i + 1
        parsed.raw[flag.dest] = value
        parsed.given.add(flag.name)
        try:
            parsed.values[flag.dest] = _convert(flag, value)
        except UsageError:
            if not tolerant:
                raise
    elif not eq:
        parsed.values[flag.dest] = flag.const
    elif flag.optional and _is_number(value):
        parsed.values[flag.dest] = _bounded(flag, name, value)
    else:
        switch = _BOOLS.get(value)
        if switch is None:
            raise UsageError(_switch_problem(flag, name, value), f"write just {name}")
        if not switch:
            return i + 1  # `--stream=false` is the flag not given
        parsed.values[flag.dest] = flag.const
    parsed.given.add(flag.name)
    return i + 1


def _is_number(word: str) -> bool:
    return word.isascii() and word.isdigit()


def _switch_problem(flag: Flag, name: str, value: str) -> str:
    if flag.optional:
        low, high = flag.bounds or (0, 0)
        return f"{name} takes a number of {flag.metavar.lower() or 'units'} from {low} to {high}, got '{value}'"
    return f"{name} takes no value (only true or false), got '{value}'"


def _bounded(flag: Flag, name: str, value: str) -> int:
    number = int(value)
    low, high = flag.bounds or (number, number)
    if not low <= number <= high:
        raise UsageError(f"{name} takes {low} to {high} {flag.metavar.lower()}, got {number}", flag.help)
    return number


def _check_exclusive(command: Command, parsed: ParsedArgs) -> None:
    """Flags that contradict each other (`--wait --no-wait`), as the Go CLI refuses them."""
    for group in command.exclusive:
        given = [name for name in group if name in parsed.given]
        if len(given) > 1:
            raise UsageError(f"{given[0]} and {given[1]} cannot be used together", f"give one of {', '.join(group)}")


def _convert(flag: Flag, value: str) -> Any:
    from rshell.session.state import OPTIONS

    value = dict(flag.synonyms).get(value, value)
    if flag.dest in OPTIONS and flag.type == "str":  # a session option's flag: the option's own rule
        OPTIONS[flag.dest].parse(value)
    if flag.type in _SPECIAL:
        return _SPECIAL[flag.type](flag, value)
    if flag.choices and value not in flag.choices:
        raise unknown("value", value, list(flag.choices), f"for {flag.name}")
    try:
        return _CONVERT[flag.type](value)
    except ValueError:
        raise UsageError(f"{flag.name} needs {_TYPE_NAMES[flag.type]}, got '{value}'") from None


def _list(flag: Flag, value: str) -> list[str]:
    """`a,b` → ["a", "b"], each checked against the flag's choices."""
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise UsageError(f"{flag.name} needs a comma-separated list", f"{flag.name} {flag.metavar or 'A,B'}")
    for item in items:
        if flag.choices and item not in flag.choices:
            raise unknown("value", item, list(flag.choices), f"for {flag.name}")
    return list(dict.fromkeys(items))


def _json_object(flag: Flag, value: str) -> dict[str, Any]:
    import json

    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        example = f"""{flag.name} '{{"key": "value"}}'"""
        raise UsageError(f"{flag.name} needs a JSON object, got '{value}'", f"e.g. {example}")
    return parsed


def _duration(flag: Flag, value: str) -> str:
    """A Cancel-After duration, checked here so a bad one sends nothing."""
    from rshell.writes import parse_duration

    try:
        parse_duration(value)
    except ValueError as exc:
        raise UsageError(f"{flag.name}: {exc}", f"{flag.name} {flag.metavar or 'DURATION'}: {flag.help}") from None
    return value.strip()


_SPECIAL = {"list": _list, "json": _json_object, "duration": _duration}


def _take_positionals(command: Command, words: list[str], parsed: ParsedArgs, *, tolerant: bool = False) -> None:
    separator = parsed.separator
    slots = [a for a in command.args if not a.inputs]
    takes_inputs = any(a.inputs for a in command.args)
    for word in words:
        given = read_input(word, separator) if takes_inputs else None
        looks_like_input = given is not None
        if slots and slots[0].many and not looks_like_input:
            parsed.values.setdefault(slots[0].name, []).append(word)  # `prediction wait ID…`
            parsed.positionals.append(word)
        elif slots and not looks_like_input:
            parsed.values[slots.pop(0).name] = word
            parsed.positionals.append(word)
        elif given is not None:
            if given.file and not tolerant and not _takes_files(command):
                raise UsageError(
                    f"`{command.name}` takes no @file inputs yet", "upload it with `files upload` and pass its URL"
                )
            parsed.inputs.append(word)
            parsed.split.append(given)
        elif tolerant:
            continue
        elif takes_inputs:
            raise UsageError(
                f"expected key{separator}value, got '{word}'",
                f"inputs are written key{separator}value, e.g. prompt{separator}'a cat'",
            )
        else:
            raise UsageError(f"unexpected argument '{word}' for `{command.name}`", _usage_hint(command))
    for slot in slots:
        if slot.many and parsed.values.get(slot.name):
            continue
        if slot.required and not tolerant:
            raise UsageError(f"`{command.name}` needs <{slot.name}>: {slot.help}", _usage_hint(command))
        parsed.values.setdefault(slot.name, None)


def _takes_files(command: Command) -> bool:
    return all(arg.files for arg in command.args if arg.inputs)


def is_input(word: str, separator: str) -> bool:
    """`key=value` where key is a name (`grammar.inputs.read_input`)."""
    return read_input(word, separator) is not None


def _usage_hint(command: Command) -> str:
    return f"usage: {usage(command)}"


def usage(command: Command) -> str:
    """`prediction create [<model>] [key=value ...] [--stream] …` from the declaration."""
    parts = [command.name]
    for a in command.args:
        if a.inputs:
            parts.append("[key=value ...]")
        else:
            name = f"<{a.name}>" + ("..." if a.many else "")
            parts.append(name if a.required else f"[{name}]")
    for f in command.flags:
        parts.append(f.label if f.required else f"[{f.label}]")
    return " ".join(parts)
