"""The short texts shown beside completions, made safe for one menu line.

Descriptions come from models and the API, so control sequences are neutralised and
newlines and tabs flattened (a tab would also break `rshell --complete`'s
"text<TAB>meta" lines).
"""

from __future__ import annotations

import json
from typing import Any

from rshell.rendering.sanitize import neutralise
from rshell.text import one_line as text_one_line

# A bound on what a server can put in a menu line, not a layout width: the menu itself
# fits the description to the terminal (whole at 220 columns, cut with … at 60).
MAX_META = 300


def one_line(text: Any, limit: int = MAX_META) -> str:
    """`text` on one line, control characters made visible, cut at `limit` with `…`."""
    return text_one_line(None if text is None else neutralise(str(text)), limit)


def short_count(n: int) -> str:
    """12345 → 12.3k, for run counts."""
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.1f}".rstrip("0").rstrip(".") + unit
    return str(n)


def join(*parts: Any, sep: str = " · ") -> str:
    """The non-empty parts joined, each on one line."""
    return sep.join(one_line(p) for p in parts if p not in (None, ""))


def input_meta(prop: dict[str, Any], required: bool) -> str:
    """`integer = 50 — Number of steps`: an input's type, default and description."""
    kind = str(prop.get("type") or ("enum" if "enum" in prop else "any"))
    if kind == "array" and isinstance(prop.get("items"), dict) and prop["items"].get("type"):
        kind = f"array of {prop['items']['type']}"
    if prop.get("format") == "uri":
        kind = f"{kind} (uri, @file)"
    head = kind
    if "default" in prop and prop["default"] is not None:
        head += " = " + json.dumps(prop["default"], ensure_ascii=False)
    elif required:
        head += ", required"
    description = prop.get("description")
    return one_line(f"{head} — {description}" if description else head)


def describe_value(value: Any) -> str:
    """A glimpse of a variable's value: `object (3 keys)`, `array (4)`, `"https://…"`."""
    if isinstance(value, dict):
        return f"object ({len(value)} keys)"
    if isinstance(value, list):
        return f"array ({len(value)})"
    if isinstance(value, str):
        return one_line(json.dumps(value, ensure_ascii=False), 50)
    return one_line(json.dumps(value, default=str), 50)
