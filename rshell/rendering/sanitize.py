"""Neutralise terminal control sequences in text from models and the API.

A model's output or a log line could carry ESC sequences that move the cursor, set
the window title or hide text, or bidirectional controls that make a terminal show
characters in another order than they are (a right-to-left override); we print them as
visible escapes instead. JSON for the terminal keeps its meaning but spells the same
characters as `\\uXXXX` escapes (`escape_json`).
"""

from __future__ import annotations

import re

# C0 controls except \t and \n, DEL, the C1 range (which some terminals obey: U+009B is
# a one-character CSI), and the bidirectional embeddings, overrides and isolates.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069]")
# What JSON (ensure_ascii=False) leaves raw that a terminal would obey: DEL, C1, bidi.
_JSON_RAW = re.compile(r"[\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    return repr(match.group())[1:-1]  # e.g. '\x1b', '\u202e'


def neutralise(text: str, *, keep_cr: bool = False) -> str:
    """`text` with every control character except newline and tab made visible.

    `\\r\\n` becomes `\\n`; a lone `\\r` is kept only with keep_cr (progress bars).
    """
    text = text.replace("\r\n", "\n")
    if keep_cr:
        return _CONTROL.sub(lambda m: m.group() if m.group() == "\r" else _visible(m), text)
    return _CONTROL.sub(lambda m: "\n" if m.group() == "\r" else _visible(m), text)


def escape_json(text: str) -> str:
    """JSON text with DEL, C1 and bidi controls written as `\\uXXXX` (same data, inert).

    JSON's own syntax is ASCII, so these can only be inside strings, where the escape
    means the very same character to any parser.
    """
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
