"""Templates: `{{ expr }}`, `$name`, `${expr}` and the paths `.a[0]["k"][-1]` in them.

An expression is a root (the piped result `.`, the last result `_`, or a variable
name) and a path of keys and indices. It is parsed, never evaluated, so a value can
only ever address data the session already holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import msgspec

from rshell.errors import QUOTED_WIDTH, ParseError, UsageError
from rshell.grammar.lexer import NAME, Word
from rshell.text import one_line

Segment = str | int
Lookup = Callable[[str | None], Any]
Joins = Callable[[Any], bool]  # whether this run's `output` is streamed text, to insert joined

_IDENT = NAME
_INT = re.compile(r"-?[0-9]+")
_MAX_KEYS_SHOWN = 20


class Ref(msgspec.Struct, frozen=True):
    name: str | None  # None: the piped context; "_": the last result; else a variable name
    path: tuple[Segment, ...]
    text: str  # the expression as written, for messages


class _Bad(Exception):
    """A syntax error at `offset` of the text being parsed (turned into ParseError)."""

    def __init__(self, offset: int, detail: str) -> None:
        super().__init__(detail)
        self.offset = offset
        self.detail = detail


# -- parsing ----------------------------------------------------------------------------


def parse_ref(expr: str) -> Ref:
    """`.output[0]`, `img.output[0]`, `_`, `_.urls["get"]`, `x.output[-1]` → a Ref."""
    return _parse_ref(expr, 0, expr)


def _parse_ref(expr: str, offset: int, line: str) -> Ref:
    """parse_ref, reporting a column `offset` further right within `line`."""
    text = expr.strip()
    lead = len(expr) - len(expr.lstrip())
    try:
        name, path = _parse_expression(text)
    except _Bad as bad:
        message = f"bad template expression '{one_line(text, QUOTED_WIDTH)}': {bad.detail}"
        raise ParseError(message, offset + lead + bad.offset, line) from None
    return Ref(name, tuple(path), text)


def _parse_expression(text: str) -> tuple[str | None, list[Segment]]:
    if not text:
        raise _Bad(0, "it is empty (write e.g. .output[0], _ or NAME.output)")
    if text[0] == ".":
        if len(text) == 1:
            return None, []
        start = 1 if text[1] == "[" else 0
        name: str | None = None
    else:
        match = _IDENT.match(text)
        if not match:
            raise _Bad(0, "it must start with '.', '_' or a variable name")
        name, start = match.group(), match.end()
    path, end = _segments(text, start, strict=True)
    if end != len(text):
        raise _Bad(end, f"unexpected '{text[end]}'")
    return name, path


def _segments(text: str, i: int, strict: bool) -> tuple[list[Segment], int]:
    """Path segments from text[i:]; lenient mode stops at the first that does not parse."""
    path: list[Segment] = []
    while i < len(text) and text[i] in ".[":
        try:
            segment, i = _segment(text, i)
        except _Bad:
            if strict:
                raise
            break
        path.append(segment)
    return path, i


def _segment(text: str, i: int) -> tuple[Segment, int]:
    """One `.field` or `[…]` at text[i]; the segment and its end."""
    if text[i] == ".":
        match = _IDENT.match(text, i + 1)
        if not match:
            raise _Bad(i + 1, "expected a field name after '.'")
        return match.group(), match.end()
    return _bracket(text, i)


def partial_ref(expr: str) -> tuple[Ref, int] | None:
    """Completion's reading of an expression being typed, by the same rules: the root
    and its complete segments, and where the unfinished rest begins (a trailing
    `.fie` is still being typed). None when no root begins it."""
    if expr.startswith("."):
        name: str | None = None
        i = 1 if expr[1:2] == "[" else 0
    else:
        match = _IDENT.match(expr)
        if not match:
            return None
        name, i = match.group(), match.end()
    path: list[Segment] = []
    while i < len(expr) and expr[i] in ".[":
        try:
            segment, end = _segment(expr, i)
        except _Bad:
            break
        if expr[i] == "." and end == len(expr):
            break
        path.append(segment)
        i = end
    return Ref(name, tuple(path), expr), i


def _bracket(text: str, i: int) -> tuple[Segment, int]:
    """`[3]`, `[-1]`, `["key"]`, `['key']` or `[key]` at text[i]; the segment and its end."""
    j = _skip_spaces(text, i + 1)
    number = _INT.match(text, j)
    if number:
        segment: Segment = int(number.group())
        j = number.end()
    elif j < len(text) and text[j] in "\"'":
        segment, j = _string(text, j)
    elif bare := _IDENT.match(text, j):
        # `$_.urls["get"]` typed unquoted reaches us as `[get]`: the shell ate the quotes.
        segment, j = bare.group(), bare.end()
    else:
        raise _Bad(j, 'expected an index like [0] or a key like ["name"]')
    j = _skip_spaces(text, j)
    if j >= len(text) or text[j] != "]":
        raise _Bad(j, "expected ']'")
    return segment, j + 1


def _string(text: str, i: int) -> tuple[str, int]:
    """A quoted key with backslash escapes; the key and the offset after its quote."""
    quote_char, chars, j = text[i], [], i + 1
    while j < len(text):
        c = text[j]
        if c == "\\" and j + 1 < len(text):
            chars.append(text[j + 1])
            j += 2
        elif c == quote_char:
            return "".join(chars), j + 1
        else:
            chars.append(c)
            j += 1
    raise _Bad(i, "unclosed quote in key")


def _skip_spaces(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t":
        i += 1
    return i


# -- finding templates in a word ---------------------------------------------------------


def _find(word: Word) -> Iterator[tuple[int, int, Ref]]:
    """Every (start, end, ref) substitution in word.value, left to right."""
    value, n = word.value, len(word.value)
    literal = bytearray(n + 1)
    for a, b in word.literal:
        literal[a:b] = b"\x01" * (b - a)
    i = 0
    while i < n:
        if literal[i]:
            i += 1
        elif value.startswith("{{", i) and not literal[i + 1]:
            close = value.find("}}", i + 2)
            if close < 0:
                raise ParseError("unclosed '{{' (a template ends with '}}')", i, value)
            yield i, close + 2, _parse_ref(value[i + 2 : close], i + 2, value)
            i = close + 2
        elif value[i] == "$" and i + 1 < n and not literal[i + 1]:
            found = _dollar(value, i, literal)
            if found is None:
                i += 1
            else:
                yield found
                i = found[1]
        else:
            i += 1


def _dollar(value: str, i: int, literal: bytearray) -> tuple[int, int, Ref] | None:
    """`${expr}` or `$name.path…` at value[i]; None when `$` is just a dollar sign."""
    if value[i + 1] == "{":
        close = value.find("}", i + 2)
        if close < 0:
            raise ParseError("unclosed '${' (write ${name.path})", i, value)
        ref = _parse_ref(value[i + 2 : close], i + 2, value)
        return i, close + 1, Ref(ref.name, ref.path, value[i : close + 1])
    if not _IDENT.match(value, i + 1):
        return None  # `$$`, `$5`: a dollar sign, decided in O(1)
    # Parse on the whole value, then cut at the first literal character inside what
    # was consumed: the work is proportional to the reference, not to the rest of the
    # word, so a value with thousands of `$` signs stays linear.
    name, path, end = _dollar_ref(value, i)
    cut = literal.find(1, i + 1, end)
    if cut >= 0:  # a literal (quoted, escaped) character ends the reference
        head = value[i:cut]
        name, path, stop = _dollar_ref(head, 0)
        end = i + stop
    return i, end, Ref(name, tuple(path), value[i:end])


def _dollar_ref(text: str, i: int) -> tuple[str, list[Segment], int]:
    """The name, path and end of the `$name.path…` at text[i] (lenient: it stops at
    what does not parse)."""
    match = _IDENT.match(text, i + 1)
    assert match is not None
    path, end = _segments(text, match.end(), strict=False)
    return match.group(), path, end


# -- resolving -----------------------------------------------------------------------------


def resolve(ref: Ref, lookup: Lookup, joins: Joins | None = None) -> Any:
    """Walk ref.path from lookup(ref.name); UsageError naming where the path broke.

    `joins(run)` says whether a run's output is streamed text (a concatenate
    iterator): a path that ends at that `output` gives the joined text, while
    `output[n]` still indexes the tokens.
    """
    value = lookup(ref.name)
    for k, segment in enumerate(ref.path):
        parent, value = value, _step(value, segment, ref, k)
        if k == len(ref.path) - 1 and segment == "output" and joins is not None and joins(parent):
            value = joined_text(value)
    return value


def joined_text(output: Any) -> Any:
    """A list of text tokens as one text; anything else unchanged."""
    if isinstance(output, list) and all(isinstance(token, str) for token in output):
        return "".join(output)
    return output


def _step(value: Any, segment: Segment, ref: Ref, k: int) -> Any:
    where = render_path(ref.name, ref.path[: k + 1])
    label = _label(ref.name, ref.path[:k])
    if isinstance(segment, int):
        if not isinstance(value, list):
            raise _bad_path(where, f"{label} is {_kind(value)}, not a list", ref, k)
        if -len(value) <= segment < len(value):
            return value[segment]
        items = f"{len(value)} item{'' if len(value) == 1 else 's'}"
        raise _bad_path(where, f"index {segment} out of range ({label} has {items})", ref, k)
    if not isinstance(value, dict):
        raise _bad_path(where, f"{label} is {_kind(value)}, not an object", ref, k)
    if segment in value:
        return value[segment]
    raise _bad_path(where, f"no key '{segment}' ({_keys(value)})", ref, k)


def _bad_path(where: str, detail: str, ref: Ref, k: int) -> UsageError:
    if ref.name is None:
        return UsageError(f"bad path {where}: {detail}")
    shown = render_path(ref.name, ref.path[:k])
    return UsageError(f"bad path {where}: {detail}", f"`show {shown}` prints what is there")


def _keys(value: dict) -> str:
    keys = sorted(str(key) for key in value)
    if not keys:
        return "the object is empty"
    more = f", … ({len(keys) - _MAX_KEYS_SHOWN} more)" if len(keys) > _MAX_KEYS_SHOWN else ""
    return f"keys: {', '.join(keys[:_MAX_KEYS_SHOWN])}{more}"


def render_path(name: str | None, path: tuple[Segment, ...]) -> str:
    """The canonical text of a root and path: `img.output[0]`, `.output`, `_["a b"]`."""
    body = "".join(render_segment(segment) for segment in path)
    if name is not None:
        return name + body
    return body if body.startswith(".") else "." + body


def render_segment(segment: Segment) -> str:
    """`.key`, `["odd key"]` or `[3]`: how a path writes one segment."""
    if isinstance(segment, int):
        return f"[{segment}]"
    if _IDENT.fullmatch(segment):
        return f".{segment}"
    return f"[{json.dumps(segment, ensure_ascii=False)}]"


def _label(name: str | None, before: tuple[Segment, ...]) -> str:
    """What the container is called in a message: the last key (`output[0]`) or the root."""
    keys = [i for i, segment in enumerate(before) if isinstance(segment, str)]
    if keys:
        start = keys[-1]
        return str(before[start]) + "".join(render_segment(s) for s in before[start + 1 :])
    if name is None and not before:
        return "the piped input"
    return render_path(name, before)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


# -- the public helpers for words ----------------------------------------------------------


def as_text(value: Any) -> str:
    """How a value is written into a word: strings as they are, the rest as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def expand(word: Word, lookup: Lookup, joins: Joins | None = None) -> str:
    """word.value with every template and `$name` in its non-literal spans substituted."""
    out: list[str] = []
    last = 0
    for start, end, ref in _find(word):
        out.append(word.value[last:start])
        out.append(as_text(resolve(ref, lookup, joins)))
        last = end
    out.append(word.value[last:])
    return "".join(out)


def references(word: Word) -> list[Ref]:
    """The refs `expand` would resolve in `word` (ParseError on bad template syntax)."""
    return [ref for _, _, ref in _find(word)]
