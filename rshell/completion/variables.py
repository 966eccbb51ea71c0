"""Variable names and JSON paths into their values: `img.out` → `img.output`,
`img.output[` → `img.output[0]` ….

Paths are read by the template grammar itself (`grammar.templates.partial_ref`,
`resolve`), so completion walks a value exactly as a template would. Every candidate is the whole expression so
far, so it replaces what was typed of the expression in one piece.
"""

from __future__ import annotations

import json
from typing import Any

from rshell.completion.matcher import Candidate
from rshell.completion.meta import describe_value
from rshell.errors import RshellError
from rshell.grammar.templates import Lookup, Ref, partial_ref, render_segment, resolve
from rshell.session.state import Session

MAX_INDICES = 50
MAX_NUMBERED = 10  # the newest numbered results offered (`_12`, `_11`, …)


def names(session: Session) -> list[Candidate]:
    """`_` (when set), every named result and the newest numbered ones, with a glimpse of each value."""
    found = [Candidate(n, describe_value(v)) for n, v in session.variables.items()]
    if session.last is not None:
        found.append(Candidate("_", "last result: " + describe_value(session.last)))
    numbered = session.numbered.values
    found += [Candidate(f"_{n}", describe_value(numbered[n])) for n in sorted(numbered, reverse=True)[:MAX_NUMBERED]]
    return found


def candidates(expr: str, session: Session) -> list[Candidate]:
    """What may follow `expr` (a name and a partial path): names, keys or indices."""
    read = partial_ref(expr)
    if read is None or read[0].name is None or read[1] == len(read[0].name) == len(expr):
        return names(session)
    ref, at = read
    return _under(ref, at, lambda name: session.lookup(name or "_"))


def piped(expr: str, value: Any) -> list[Candidate]:
    """What may follow `.…`: a path into the piped result, `value`."""
    read = partial_ref(expr)
    if read is None or read[0].name is not None:
        return []
    return _under(read[0], read[1], lambda _: value)


def _under(ref: Ref, at: int, lookup: Lookup) -> list[Candidate]:
    """The children of the value the complete part of `ref` reaches, as the executor
    would reach it (`templates.resolve`); none when the path breaks."""
    try:
        value = resolve(ref, lookup)
    except RshellError:
        return []
    return _children(ref.text[:at], value, ref.text[at:])


def _children(base: str, value: Any, partial: str) -> list[Candidate]:
    """The next segments under `value`, as whole expressions `base + segment`."""
    if isinstance(value, dict):
        if partial.startswith("["):
            return [_child(base, f'["{_escape(str(k))}"]', v) for k, v in value.items()]
        # `.odd key` is written `["odd key"]` but still matches what is typed after `.`
        return [_child(base, render_segment(str(k)), v, match="." + str(k)) for k, v in value.items()]
    if isinstance(value, list):
        found = [_child(base, f"[{i}]", v) for i, v in list(enumerate(value))[:MAX_INDICES]]
        if value:
            found.append(_child(base, "[-1]", value[-1]))
        return found
    return []


def _child(base: str, segment: str, value: Any, match: str | None = None) -> Candidate:
    return Candidate(base + segment, describe_value(value), display=segment, key=(base + (match or segment)).lower())


def _escape(key: str) -> str:
    return json.dumps(key)[1:-1]
