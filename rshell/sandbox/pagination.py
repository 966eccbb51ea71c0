"""Cursor pages: `results`, and `next`/`previous` as absolute URLs, like Replicate.

Cursors are keysets: a cursor names the sort key of the row a page ends at (for
`next`) or starts at (for `previous`), never an offset, so rows created while a
client walks the pages neither repeat nor push others out of reach. A cursor is
opaque to clients (base64 of a small JSON) and checked before use: anything that is
not one of ours, or not of this listing's shape, is a 400 problem.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import Request

from rshell.sandbox.problems import Problem

PAGE_SIZE = 100  # Replicate's page size; tests lower it to exercise the cursors
MAX_PART = 512  # characters in one part of a cursor's key: ids, names and dates are shorter

SortKey = tuple[Any, ...]


class Rows(Protocol):
    """A listing in display order, read by position: what `page` walks."""

    def key(self, item: Any) -> SortKey:
        """An item's sort key: strictly increasing or decreasing along the listing."""
        ...

    def shape(self) -> tuple[type, ...] | None:
        """The types of a key's parts (str, float), or None when the listing is empty."""
        ...

    def fetch(self, after: SortKey | None, limit: int, *, backwards: bool = False) -> list[Any]:
        """Up to `limit` items after the one keyed `after` (from the start if None);
        `backwards`: those before it, nearest first."""
        ...


@dataclass(frozen=True)
class Listed:
    """A small listing held in memory, already sorted in display order."""

    items: Sequence[Any]
    sort_key: Callable[[Any], SortKey]
    descending: bool = False

    def key(self, item: Any) -> SortKey:
        return self.sort_key(item)

    def shape(self) -> tuple[type, ...] | None:
        return _shape(self.sort_key(self.items[0])) if self.items else None

    def fetch(self, after: SortKey | None, limit: int, *, backwards: bool = False) -> list[Any]:
        if after is None:
            chosen = list(self.items)
        else:
            beyond = (lambda k: k < after) if self.descending != backwards else (lambda k: k > after)
            chosen = [item for item in self.items if beyond(self.sort_key(item))]
        return (chosen[::-1] if backwards else chosen)[:limit]


@dataclass(frozen=True)
class Cursor:
    backwards: bool
    key: SortKey


def encode_cursor(key: SortKey, *, backwards: bool = False) -> str:
    text = json.dumps(["p" if backwards else "n", list(key)], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str | None) -> Cursor | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        direction, key = json.loads(raw.decode("utf-8"))
        if direction not in ("n", "p") or not isinstance(key, list) or not 1 <= len(key) <= 4:
            raise ValueError(cursor)
        parts = tuple(_part(part) for part in key)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise _bad(cursor) from None
    return Cursor(direction == "p", parts)


def page(request: Request, listing: Rows, render: Callable[[Any], Any]) -> dict[str, Any]:
    """One page of `listing` for this request's cursor."""
    size = PAGE_SIZE
    raw = request.query_params.get("cursor")
    cursor = decode_cursor(raw)
    if cursor is not None and _shape(cursor.key) != (listing.shape() or _shape(cursor.key)):
        raise _bad(raw or "")
    if cursor is None or not cursor.backwards:
        chunk = listing.fetch(cursor.key if cursor else None, size + 1)
        more_after, chunk = len(chunk) > size, chunk[:size]
        more_before = (
            cursor is not None and bool(chunk) and bool(listing.fetch(listing.key(chunk[0]), 1, backwards=True))
        )
    else:
        chunk = listing.fetch(cursor.key, size + 1, backwards=True)
        more_before, chunk = len(chunk) > size, chunk[:size][::-1]
        more_after = bool(chunk) and bool(listing.fetch(listing.key(chunk[-1]), 1))
    return {
        "next": _link(request, listing.key(chunk[-1])) if more_after else None,
        "previous": _link(request, listing.key(chunk[0]), backwards=True) if more_before else None,
        "results": [render(item) for item in chunk],
    }


def _part(value: Any) -> Any:
    if isinstance(value, str) and len(value) <= MAX_PART:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise ValueError(value)


def _shape(key: SortKey) -> tuple[type, ...]:
    return tuple(str if isinstance(part, str) else float for part in key)


def _bad(cursor: str) -> Problem:
    return Problem(400, f"invalid cursor {cursor[:80]!r}: use the `next` or `previous` URL of a page")


def _link(request: Request, key: SortKey, *, backwards: bool = False) -> str:
    return str(request.url.include_query_params(cursor=encode_cursor(key, backwards=backwards)))


@dataclass(frozen=True)
class Newest:
    """Records of one kind read from the store a page at a time, newest first by
    (created_at, id): the runs and files, which may number many thousands."""

    store: Any  # rshell.sandbox.store.Store
    kind: str
    query: Any = None  # a store.Query; None: every record of the kind
    where: Callable[[Any], bool] | None = None  # a filter on what no column holds

    def key(self, item: Any) -> SortKey:
        return (str(item.get("created_at") or ""), str(item["id"]))

    def shape(self) -> tuple[type, ...] | None:
        return (str, str)

    def fetch(self, after: SortKey | None, limit: int, *, backwards: bool = False) -> list[Any]:
        from rshell.sandbox.store import Query

        return self.store.rows(
            self.kind,
            self.query or Query(),
            after=after,
            backwards=backwards,
            limit=limit,
            where=self.where,
        )
