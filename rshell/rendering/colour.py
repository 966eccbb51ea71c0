"""Colour on a terminal: errors, JSON and table headers.

Only the terminal's default foreground plus bold and the ANSI colours 1–6 are used:
the terminal's own palette maps those to something legible on a dark and on a light
background alike, which fixed greys or 256-colour shades do not. Off a terminal, with
`NO_COLOR` set (https://no-color.org) or `TERM=dumb`, text is left plain. Colour is
added after `sanitize.neutralise`, so these are the only escapes that reach the screen.
"""

from __future__ import annotations

import os
import re
from typing import IO

from rshell.rendering.output import isatty

ROLES = {
    "error": "1;31",  # bold red
    "header": "1",  # bold, default colour
    "key": "1;34",  # JSON keys: bold blue
    "string": "32",  # green
    "number": "36",  # cyan
    "literal": "35",  # true, false, null: magenta
}
# a table's header row as `rendering.tables` writes it: upper-case names two spaces apart
_HEADER = re.compile(r"^[A-Z][A-Z_]*(?: {2,}[A-Z][A-Z_]*)+$", re.M)


def enabled(stream: IO[str]) -> bool:
    """Colour only for a person at a terminal that wants it."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM", "") == "dumb":
        return False
    return isatty(stream)


def paint(text: str, role: str) -> str:
    """`text` in the role's colour, reset after."""
    return f"\x1b[{ROLES[role]}m{text}\x1b[0m" if text else text


def headers(text: str) -> str:
    """Table header rows in bold; every other line as it was."""
    return _HEADER.sub(lambda m: paint(m.group(0), "header"), text)


def json_text(text: str) -> str:
    """Pretty JSON with keys, strings, numbers and literals coloured (pygments lexes it;
    the text itself is not changed, so copying from the screen gives the same JSON)."""
    from pygments.lexers.data import JsonLexer
    from pygments.token import Keyword, Name, Number, String

    roles = ((Name.Tag, "key"), (String, "string"), (Number, "number"), (Keyword.Constant, "literal"))
    parts = []
    for token, value in JsonLexer().get_tokens(text):
        role = next((r for kind, r in roles if token in kind), None)
        parts.append(paint(value, role) if role else value)
    joined = "".join(parts)
    return joined if text.endswith("\n") else joined.rstrip("\n")
