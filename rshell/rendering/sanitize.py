"""Neutralise terminal control sequences in text from models and the API.

A model's output or a log line could carry ESC sequences that move the cursor, set
the window title or hide text; we print them as visible escapes instead.
"""

from __future__ import annotations

import re

# C0 controls except \t and \n, DEL, and the C1 range (which some terminals obey).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def _visible(match: re.Match[str]) -> str:
    return repr(match.group())[1:-1]  # e.g. '\x1b'


def neutralise(text: str, *, keep_cr: bool = False) -> str:
    """`text` with every control character except newline and tab made visible.

    `\\r\\n` becomes `\\n`; a lone `\\r` is kept only with keep_cr (progress bars).
    """
    text = text.replace("\r\n", "\n")
    if keep_cr:
        return _CONTROL.sub(lambda m: m.group() if m.group() == "\r" else _visible(m), text)
    return _CONTROL.sub(lambda m: "\n" if m.group() == "\r" else _visible(m), text)
