"""Variable names and JSON paths into their values: `img.out` → `img.output`,
`img.output[` → `img.output[0]` ….

Paths use the template grammar (`.field`, `[n]`, `[-1]`, `["key"]`); the value is
walked from the session, never evaluated. Every candidate is the whole expression so
far, so it replaces what was typed of the expression in one piece.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rshell.completion.matcher import Candidate
from rshell.completion.meta import describe_value
from rshell.session.state import Session

MAX_INDICES = 50
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SEGMENT = re.compile(r"""\.([A-Za-z0-9_]+)|\[(-?\d+)\]|\["((?:[^"\\]|\\.)*)"\]|\['([^']*)'\]""")


def names(session: Session) -> list[Candidate]:
    """`_` (when set) and every named result, with a glimpse of its value."""
    found = [Candidate(n, describe_value(v)) for n, v in session.variables.items()]
    if session.last is not None:
        found.append(Candidate("_", "last result: " + describe_value(session.last)))
    return found


def candidates(expr: str, session: Session) -> list[Candidate]:
    """What may follow `expr` (a name and a partial path): names, keys or indices."""
    head = _NAME.match(expr)
    if head is None or head.end() == len(expr):
        return names(session)
    name = head.group()
    value = _value_of(name, session)
    if value is _MISSING:
        return []
    walked = _walk(expr, head.end(), value)
    if walked is None:
        return []
    base, value, partial = walked
    return _children(base, value, partial)


def piped(expr: str, value: Any) -> list[Candidate]:
    """What may follow `.…` (a path into the piped result, `value`)."""
    walked = _walk(expr, 0, value)
    if walked is None:
        return []
    base, value, partial = walked
    return _children(base, value, partial)


_MISSING = object()


def _value_of(name: str, session: Session) -> Any:
    if name == "_":
        return _MISSING if session.last is None else session.last
    return session.variables.get(name, _MISSING)


def _walk(expr: str, at: int, value: Any) -> tuple[str, Any, str] | None:
    """Follow the complete segments of `expr` from `at`; (base text, value, rest)."""
    while at < len(expr):
        m = _SEGMENT.match(expr, at)
        if m is None or (m.group(1) is not None and m.end() == len(expr)):
            break  # `.partial` at the end is what is being typed
        value = _step(value, m)
        if value is _MISSING:
            return None
        at = m.end()
    return expr[:at], value, expr[at:]


def _step(value: Any, m: re.Match[str]) -> Any:
    field, index, dq, sq = m.groups()
    key = field if field is not None else dq if dq is not None else sq
    if index is not None:
        if not isinstance(value, list):
            return _MISSING
        i = int(index)
        return value[i] if -len(value) <= i < len(value) else _MISSING
    if isinstance(value, dict) and key in value:
        return value[key]
    return _MISSING


def _children(base: str, value: Any, partial: str) -> list[Candidate]:
    """The next segments under `value`, as whole expressions `base + segment`."""
    if isinstance(value, dict):
        if partial.startswith("["):
            return [_child(base, f'["{_escape(str(k))}"]', v) for k, v in value.items()]
        # `.odd key` is written `["odd key"]` but still matches what is typed after `.`
        return [_child(base, _key_segment(str(k)), v, match="." + str(k)) for k, v in value.items()]
    if isinstance(value, list):
        found = [_child(base, f"[{i}]", v) for i, v in list(enumerate(value))[:MAX_INDICES]]
        if value:
            found.append(_child(base, "[-1]", value[-1]))
        return found
    return []


def _child(base: str, segment: str, value: Any, match: str | None = None) -> Candidate:
    return Candidate(base + segment, describe_value(value), display=segment, key=(base + (match or segment)).lower())


def _key_segment(key: str) -> str:
    return f".{key}" if _IDENT.match(key) else f'["{_escape(key)}"]'


def _escape(key: str) -> str:
    return json.dumps(key)[1:-1]
