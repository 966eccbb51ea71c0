"""Parameter sweeps: `seed=1..4 style=noise,blocks` in a `run` line.

A `key=value` word is a sweep axis when its value, typed without any quoting or
backslash, is an integer range `a..b`, a number range `a..b/step`, or a comma list.
Quoting keeps it literal (`'1..4'`, `"a,b"`, `a\\,b`), as do templates (`{{…}}`,
`$name`), JSON (`[1,2]`) and URLs, so a line that meant a literal value never turns into many runs. The runs
are the cross product of the axes, in the order the words were typed.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Sequence
from decimal import Decimal, InvalidOperation

import msgspec

from rshell.errors import UsageError
from rshell.grammar.lexer import KEY, Word

MAX_VALUES = 1000  # one axis; a range this long is a typo, not a sweep
ASK_ABOVE = 16  # a sweep of more runs asks first (the shell) or needs --yes (a script)
_INT_RANGE = re.compile(r"(-?\d+)\.\.(-?\d+)\Z")
_NUMBER_RANGE = re.compile(r"(-?\d+(?:\.\d+)?)\.\.(-?\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)\Z")


class Axis(msgspec.Struct, frozen=True):
    """One varied input: its key and the values (as words would give them) in order."""

    key: str
    values: tuple[str, ...]


def axes(words: list[Word], separator: str = "=") -> list[Axis]:
    """The sweep axes among a line's words (none: an ordinary run)."""
    found: list[Axis] = []
    for word in words:
        axis = axis_of(word, separator)
        if axis is not None:
            if any(a.key == axis.key for a in found):
                raise UsageError(f"'{axis.key}' is swept twice", "give one range or list per input")
            found.append(axis)
    return found


def too_many(count: int) -> UsageError:
    """A sweep of more than ASK_ABOVE runs where no one is asked (a script, `-c`)."""
    return UsageError(
        f"this sweep runs {count} predictions (more than {ASK_ABOVE})", "add --yes to run them all, or narrow a range"
    )


def line_axes(words: Sequence[Word], inputs: Collection[str], separator: str = "=") -> list[Axis]:
    """The axes among a line's words as typed that its reading took as inputs (a
    templated one is never an axis): what the run sweeps and precheck checks."""
    typed = set(inputs)
    return axes([word for word in words if word.value in typed], separator)


def axis_of(word: Word, separator: str = "=") -> Axis | None:
    """The axis a word types, or None for any other word (a quoted one included)."""
    key, eq, value = word.value.partition(separator)
    if not eq or not KEY.fullmatch(key) or value.startswith("@"):
        return None
    if word.end - word.start != len(word.value) or word.literal:
        return None  # quoted or escaped somewhere: literal
    if "{{" in value or "$" in value or value.startswith(("[", "{", "data:")) or "://" in value:
        return None  # a template, JSON (`[1,2]`), a URL: one value, as before sweeps
    if (found := _INT_RANGE.match(value)) is not None:
        return Axis(key, _int_range(key, int(found[1]), int(found[2])))
    if (found := _NUMBER_RANGE.match(value)) is not None:
        return Axis(key, _number_range(key, found[1], found[2], found[3]))
    if "," in value:
        parts = tuple(value.split(","))
        if any(not p for p in parts):
            raise UsageError(
                f"'{word.value}' has an empty item in its list", f"e.g. {key}=a,b (quote it for a literal comma)"
            )
        return Axis(key, parts)
    if ".." in value and value.replace(".", "").lstrip("-").isdigit():
        raise UsageError(f"'{word.value}' is not a range", f"write {key}=1..4, or {key}=0..1/0.25 for numbers")
    return None


def _int_range(key: str, first: int, last: int) -> tuple[str, ...]:
    if last < first:
        raise UsageError(f"{key}={first}..{last} runs backwards", f"write {key}={last}..{first}")
    _bounded(key, last - first + 1)
    return tuple(str(n) for n in range(first, last + 1))


def _number_range(key: str, first: str, last: str, step: str) -> tuple[str, ...]:
    try:
        a, b, s = Decimal(first), Decimal(last), Decimal(step)
    except InvalidOperation:
        raise UsageError(f"{key}={first}..{last}/{step} is not a number range") from None
    if s <= 0:
        raise UsageError(f"{key}={first}..{last}/{step}: the step must be more than 0")
    if b < a:
        raise UsageError(f"{key}={first}..{last}/{step} runs backwards", f"write {key}={last}..{first}/{step}")
    _bounded(key, int((b - a) / s) + 1)
    values: list[str] = []
    n = a
    while n <= b:
        values.append(_plain(n))
        n += s
    return tuple(values)


def _plain(n: Decimal) -> str:
    text = format(n.normalize(), "f")
    return text if text not in ("-0",) else "0"


def _bounded(key: str, count: int) -> None:
    if count > MAX_VALUES:
        raise UsageError(f"{key} sweeps {count} values; at most {MAX_VALUES}", "narrow the range or raise its step")


def combinations(found: list[Axis]) -> list[dict[str, str]]:
    """Every combination, the last axis varying fastest (as the words were typed)."""
    return [
        dict(zip([a.key for a in found], values, strict=True))
        for values in itertools.product(*(a.values for a in found))
    ]
