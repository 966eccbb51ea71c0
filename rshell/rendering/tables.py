"""Small text layouts for command summaries: aligned tables and labelled lines.

Handlers build their human summaries from these so every list and every `show`
looks alike. Cells are flattened to one line (an API description with newlines
would break the alignment); one column may be truncated so a row fits the terminal.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

ELLIPSIS = "…"
GAP = "  "
_SPACE = re.compile(r"\s+")


def terminal_width(default: int = 100) -> int:
    """The terminal's columns (honours $COLUMNS), so tables fit without wrapping."""
    return max(20, shutil.get_terminal_size((default, 24)).columns)


def cell(value: Any) -> str:
    """One table cell: None is empty, whitespace runs (newlines too) become a space."""
    if value is None:
        return ""
    return _SPACE.sub(" ", str(value)).strip()


def truncate(text: str, width: int) -> str:
    """`text` cut to `width` characters, ending in an ellipsis when cut."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    return text[: width - 1].rstrip() + ELLIPSIS


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    flex: int | None = None,
    width: int | None = None,
) -> str:
    """Columns aligned under upper-case headers.

    `flex` names the column that gives way (truncated) so each line fits `width`
    (the terminal's by default); the last column is never padded.
    """
    body = [[cell(v) for v in row] for row in rows]
    head = [h.upper() for h in headers]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    if flex is not None:
        limit = width if width is not None else terminal_width()
        others = sum(w for i, w in enumerate(widths) if i != flex) + len(GAP) * (len(widths) - 1)
        widths[flex] = max(len(head[flex]), min(widths[flex], limit - others))
        body = [[truncate(v, widths[i]) if i == flex else v for i, v in enumerate(r)] for r in body]
    return "\n".join(_line(r, widths) for r in [head, *body])


def _line(values: Sequence[str], widths: Sequence[int]) -> str:
    padded = [v.ljust(w) for v, w in zip(values[:-1], widths[:-1], strict=False)] + [values[-1]]
    return GAP.join(padded).rstrip()


def fields(pairs: Iterable[tuple[str, Any]]) -> str:
    """Labelled lines (`label:  value`) with the values aligned; empty values are left out."""
    kept = [(label, cell(value)) for label, value in pairs if cell(value) != ""]
    if not kept:
        return ""
    pad = max(len(label) for label, _ in kept) + 1
    return "\n".join(f"{(label + ':').ljust(pad)} {value}" for label, value in kept)


def human_size(size: Any) -> str:
    """Bytes as `512 B`, `1.5 KB`, `20.0 MB`: what a person compares at a glance."""
    if not isinstance(size, (int, float)):
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return ""  # unreachable: the loop returns at TB


def human_count(count: Any) -> str:
    """Run counts as `950`, `12.3K`, `4.1M`: columns stay narrow and comparable."""
    if not isinstance(count, int):
        return ""
    for limit, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")):
        if count >= limit:
            return f"{count / limit:.1f}{suffix}"
    return str(count)


def short_time(stamp: Any) -> str:
    """An ISO 8601 timestamp as `2024-05-01 12:30`; anything unparsable as it came."""
    if not stamp:
        return ""
    text = str(stamp)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return moment.strftime("%Y-%m-%d %H:%M")


def short_id(version: Any, length: int = 12) -> str:
    """A long version id shortened like a git hash; short ids are kept whole."""
    text = cell(version)
    return text[:length] if len(text) > length else text


def more_hint(page: dict[str, Any], command: str | None = None, *, cut: int = 0) -> str:
    """Under a list: say how to get the rest, when there is more.

    `command` makes the hint a line to type (`prediction list --cursor X`); `cut` is
    how many results of the last page `--limit` left out.
    """
    if cut:
        return f"\n({cut} more on this page: raise --limit, or --all)"
    following = page.get("next")
    if not following:
        return ""
    if command is None:
        return "\n(more on the next page)"
    import shlex

    return f"\n(next page: {command} --cursor {shlex.quote(cursor_of(str(following)))})"


def cursor_of(next_url: str) -> str:
    """The `cursor` of a next-page URL (what `--cursor` takes); the URL if it has none."""
    from urllib.parse import parse_qs, urlsplit

    values = parse_qs(urlsplit(next_url).query).get("cursor")
    return values[0] if values else next_url
