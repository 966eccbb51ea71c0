"""The one rule for putting text on one line: whitespace collapsed, cut with `…`.

Error details, completion menus and the `vars` table all show text from servers and
results in a single line; they share this so a cut looks the same everywhere.
Neutralising control characters is the caller's (or `Output`'s) business.
"""

from __future__ import annotations

from typing import Any

ELLIPSIS = "…"


def one_line(text: Any, limit: int | None = None) -> str:
    """`text` (None is "") on one line, at most `limit` characters (None: uncut)."""
    if text is None:
        return ""
    flat = " ".join(str(text).split())
    return flat if limit is None or len(flat) <= limit else flat[: limit - 1].rstrip() + ELLIPSIS
