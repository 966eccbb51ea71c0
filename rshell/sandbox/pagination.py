"""Cursor pages: `results`, and `next`/`previous` as absolute URLs, like Replicate.

The cursor is an opaque base64 of an offset into the (newest-first) list.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request

from rshell.sandbox.problems import Problem

PAGE_SIZE = 100  # Replicate's page size; tests lower it to exercise the cursors


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode("ascii")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        tag, _, offset = text.partition(":")
        if tag != "o" or int(offset) < 0:
            raise ValueError(text)
        return int(offset)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Problem(400, f"invalid cursor {cursor!r}") from None


def page(request: Request, items: Sequence[Any], render: Callable[[Any], Any]) -> dict[str, Any]:
    """One page of `items` (already sorted) for this request's cursor."""
    size = PAGE_SIZE
    offset = decode_cursor(request.query_params.get("cursor"))
    chunk = items[offset : offset + size]
    return {
        "next": _link(request, offset + size) if offset + size < len(items) else None,
        "previous": _link(request, max(offset - size, 0)) if offset > 0 else None,
        "results": [render(item) for item in chunk],
    }


def _link(request: Request, offset: int) -> str:
    return str(request.url.include_query_params(cursor=encode_cursor(offset)))
