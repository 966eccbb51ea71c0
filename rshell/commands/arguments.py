"""Turn the words after a command's name into its arguments, per its declaration."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rshell.commands.registry import Command, Flag, unknown
from rshell.errors import UsageError

_CONVERT = {"str": str, "int": int, "float": float}
_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")
_TYPE_NAMES = {"str": "a string", "int": "an integer", "float": "a number"}


@dataclass
class ParsedArgs:
    """A command's arguments: positionals and flags by name/dest, and raw inputs.

    `inputs` keeps the `key=value` words as typed (after template expansion); the
    handler coerces them against the model's schema with `rshell.grammar.inputs`.
    """

    command: Command
    values: dict[str, Any] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def get(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name)
        return default if value is None else value


def parse_args(command: Command, words: list[str], options: Mapping[str, Any] | None = None) -> ParsedArgs:
    """Parse `words` for `command`; raise UsageError naming the bad word.

    `options` are the session's `set` options: a flag left unset whose dest names one
    (separator, file_encoding) takes the session's value before the declared default.
    """
    parsed = ParsedArgs(command, {})
    positionals = _take_flags(command, words, parsed)
    for f in command.all_flags:
        if parsed.values.get(f.dest) is None:
            fallback = (options or {}).get(f.dest)
            parsed.values[f.dest] = fallback if fallback is not None and f.takes_value else command.defaults.get(f.dest)
    for key, value in command.defaults.items():
        parsed.values.setdefault(key, value)
    _take_positionals(command, positionals, parsed)
    for f in command.flags:
        if f.required and parsed.values.get(f.dest) is None and not parsed.values.get("help"):
            raise UsageError(f"{command.name} needs {f.name} {f.metavar or 'VALUE'}", f"{f.name}: {f.help}")
    return parsed


def _take_flags(command: Command, words: list[str], parsed: ParsedArgs) -> list[str]:
    rest: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if not word.startswith("--") or word == "--":
            rest.append(word)
            i += 1
            continue
        name, eq, value = word.partition("=")
        flag = command.flag(name)
        if flag is None:
            raise unknown("flag", name, [f.name for f in command.all_flags], f"for `{command.name}`")
        if not flag.takes_value:
            if eq:
                raise UsageError(f"{name} takes no value", f"write just {name}")
            parsed.values[flag.dest] = flag.const
            i += 1
            continue
        if not eq:
            if i + 1 >= len(words):
                raise UsageError(f"{name} needs a value", f"{name} {flag.metavar or 'VALUE'}: {flag.help}")
            value = words[i + 1]
            i += 1
        parsed.values[flag.dest] = _convert(flag, value)
        i += 1
    return rest


def _convert(flag: Flag, value: str) -> Any:
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


def _take_positionals(command: Command, words: list[str], parsed: ParsedArgs) -> None:
    separator = parsed.values.get("separator") or "="
    slots = [a for a in command.args if not a.inputs]
    takes_inputs = any(a.inputs for a in command.args)
    for word in words:
        looks_like_input = takes_inputs and _is_input(word, separator)
        if slots and not looks_like_input:
            parsed.values[slots.pop(0).name] = word
        elif takes_inputs:
            if not _is_input(word, separator):
                raise UsageError(
                    f"expected key{separator}value, got '{word}'",
                    f"inputs are written key{separator}value, e.g. prompt{separator}'a cat'",
                )
            parsed.inputs.append(word)
        else:
            raise UsageError(f"unexpected argument '{word}' for `{command.name}`", _usage_hint(command))
    if parsed.values.get("help"):
        return
    for slot in slots:
        if slot.required:
            raise UsageError(f"`{command.name}` needs <{slot.name}>: {slot.help}", _usage_hint(command))
        parsed.values.setdefault(slot.name, None)


def _is_input(word: str, separator: str) -> bool:
    """`key=value` where key is a name: so `owner/name:v` stays a model even with
    `--separator :`."""
    key, found, _ = word.partition(separator)
    return bool(found) and _KEY_RE.match(key) is not None


def _usage_hint(command: Command) -> str:
    return f"usage: {usage(command)}"


def usage(command: Command) -> str:
    """`prediction create [<model>] [key=value ...] [--stream] …` from the declaration."""
    parts = [command.name]
    for a in command.args:
        if a.inputs:
            parts.append("[key=value ...]")
        else:
            parts.append(f"<{a.name}>" if a.required else f"[<{a.name}>]")
    for f in command.flags:
        parts.append(f.label if f.required else f"[{f.label}]")
    return " ".join(parts)
