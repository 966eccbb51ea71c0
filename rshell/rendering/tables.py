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
FLEX_FLOOR = 16  # the fewest characters of a truncated column that still say something
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
    lines: int | None = 1,
    titled: bool = True,
) -> str:
    """Columns aligned under upper-case headers, fitted to `width` (the terminal's).

    `flex` names the column a person reads (a description). With `lines=1` (lists,
    one row a line) it alone gives way, truncated, though never below `FLEX_FLOOR`
    characters (a model name cut to `rshe…` says nothing): narrower than that, each
    row is stacked as labelled lines. With `lines=None` its cells wrap at
    word boundaries instead: the other columns first shrink to their longest word
    (wrapping too), and when even that does not fit, each row is stacked as labelled
    lines. No text is cut; only a single word wider than the screen overflows it.
    A table without `flex` too wide for the screen is stacked. `titled=False` leaves
    the header row out (its names still label a stacked row).
    """
    body = [[cell(v) for v in row] for row in rows]
    head = [h.upper() for h in headers]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    limit = width if width is not None else terminal_width()
    shown = [head, *body] if titled else body
    if _span(widths) <= limit:
        return "\n".join(_line(r, widths) for r in shown)
    if flex is None:
        return stacked(head, body, limit)
    if lines == 1:
        others = _span(widths) - widths[flex]
        floor = max(len(head[flex]), min(widths[flex], FLEX_FLOOR))
        if others + floor > limit:
            return stacked(head, body, limit)
        widths[flex] = max(floor, min(widths[flex], limit - others))
        shown = [[truncate(v, widths[i]) if i == flex else v for i, v in enumerate(r)] for r in shown]
        return "\n".join(_line(r, widths) for r in shown)
    fitted = _fit(head, body, widths, flex, limit)
    if fitted is None:
        return stacked(head, body, limit)
    return "\n".join(_wrapped_row(r, fitted) for r in shown)


def _span(widths: Sequence[int]) -> int:
    return sum(widths) + len(GAP) * (len(widths) - 1)


def _fit(head: list[str], body: list[list[str]], widths: list[int], flex: int, limit: int) -> list[int] | None:
    """Column widths that fit `limit`: the widest column gives way first, one character
    at a time, none below its longest word and the read column not below 24 (or its
    whole text). None when even that is too wide (then rows are stacked)."""
    floors = [max(len(head[i]), *(_longest_word(r[i]) for r in body)) for i in range(len(head))]
    floors[flex] = max(floors[flex], min(widths[flex], 24))
    room = limit - len(GAP) * (len(widths) - 1)
    if sum(floors) > room:
        return None
    fitted = list(widths)
    while sum(fitted) > room:
        widest = max((i for i in range(len(fitted)) if fitted[i] > floors[i]), key=lambda i: fitted[i])
        fitted[widest] -= 1
    return fitted


def _longest_word(text: str) -> int:
    return max((len(w) for w in text.split()), default=0)


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width`, broken between words; a word longer than
    that (a URL, an id) is kept whole on its own line, so it still copies as one."""
    import textwrap

    return textwrap.wrap(text, max(1, width), break_on_hyphens=False, break_long_words=False) or [""]


def _wrapped_row(values: Sequence[str], widths: Sequence[int]) -> str:
    cells = [wrap(v, w) for v, w in zip(values, widths, strict=True)]
    height = max(len(c) for c in cells)
    return "\n".join(_line([c[k] if k < len(c) else "" for c in cells], widths) for k in range(height))


def stacked(head: Sequence[str], body: Sequence[Sequence[str]], limit: int) -> str:
    """Rows too wide for any column layout: each row a block, its first cell as the
    title and every other non-empty cell a labelled, wrapped line under it."""
    labels = [h.lower() for h in head]
    pad = max(len(label) for label in labels[1:]) + 2 if len(labels) > 1 else 0
    blocks = []
    for row in body:
        block = wrap(row[0], limit)
        for label, value in zip(labels[1:], row[1:], strict=False):
            if not value:
                continue
            if pad + 2 + _longest_word(value) > limit:  # too narrow for the column: value on its own lines
                block += [f"  {label}:"] + ["    " + part for part in wrap(value, limit - 4)]
                continue
            parts = wrap(value, limit - pad - 2)
            block += [f"  {(label + ':').ljust(pad)}{parts[0]}"] + [" " * (pad + 2) + part for part in parts[1:]]
        blocks.append("\n".join(line.rstrip() for line in block))
    return "\n\n".join(blocks)


def _line(values: Sequence[str], widths: Sequence[int]) -> str:
    padded = [v.ljust(w) for v, w in zip(values[:-1], widths[:-1], strict=False)] + [values[-1]]
    return GAP.join(padded).rstrip()


def fields(pairs: Iterable[tuple[str, Any]], *, width: int | None = None) -> str:
    """Labelled lines (`label:  value`) with the values aligned, fitted to `width` (the
    terminal's); empty values are left out."""
    kept = [(label, cell(value)) for label, value in pairs if cell(value) != ""]
    if not kept:
        return ""
    pad = max(len(label) for label, _ in kept) + 1
    room = (width if width is not None else terminal_width()) - pad - 1
    lines = []
    for label, value in kept:  # a long value wraps between words, under itself
        parts = wrap(value, room) if len(value) > room else [value]
        lines += [f"{(label + ':').ljust(pad)} {parts[0]}"] + [" " * (pad + 1) + part for part in parts[1:]]
    return "\n".join(lines)


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
