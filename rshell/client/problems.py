"""Turn failed HTTP exchanges into rshell's user-facing errors.

The API reports errors as problem+json (`detail`, `title`, sometimes
`invalid_fields`); users should see that one line, never a traceback, and never the
token, even if a server were to echo it back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rshell.errors import ApiError, AuthError, NetworkError, RshellError
from rshell.text import one_line as text_one_line

if TYPE_CHECKING:
    import httpx

AUTH_HINT = "set REPLICATE_API_TOKEN or run `rshell auth login`"
NETWORK_HINT = "check REPLICATE_BASE_URL and your network connection"
URL_HINT = "check the URL and your network connection"
MAX_DETAIL = 300


def one_line(text: str, limit: int = MAX_DETAIL) -> str:
    """A message's detail on one line (`rshell.text.one_line`, at the detail's limit)."""
    return text_one_line(text, limit)


MIN_SECRET = 8  # shorter "tokens" are no real credential; blanking them would mangle text


def real_secrets(secrets: Iterable[str | None]) -> list[str]:
    """The tokens worth hiding: set, and long enough to be real."""
    return [s for s in secrets if s and len(s) >= MIN_SECRET]


def scrub(text: str, secret: str | None) -> str:
    """Blank out the token wherever it appears, in any case (a server may upper-case it)."""
    if not real_secrets([secret]):
        return text
    return re.sub(re.escape(str(secret)), "***", text, flags=re.IGNORECASE)


def _invalid_fields(body: dict[str, Any]) -> list[str]:
    fields = body.get("invalid_fields")
    if not isinstance(fields, list):
        return []
    notes = []
    for item in fields:
        if isinstance(item, dict):
            note = item.get("description") or item.get("field")
            if isinstance(note, str) and note:
                notes.append(note)
    return notes


def detail_of(body_text: str, reason: str = "") -> str:
    """problem+json's `detail`, else `title`, else the body itself, as one line."""
    try:
        body = json.loads(body_text) if body_text else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        main = body.get("detail") or body.get("title")
        if isinstance(main, str) and main:
            extra = [n for n in _invalid_fields(body) if n not in main]
            return one_line("; ".join([main, *extra]))
    text = one_line(body_text) if body_text else ""
    return text or reason or "no details"


def retry_after_in(body_text: str) -> str | None:
    """A 429 body's `retry_after` (seconds), read like the Retry-After header."""
    try:
        body = json.loads(body_text) if body_text else None
    except ValueError:
        return None
    value = body.get("retry_after") if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    return str(value)


# What a server says when it names nothing: only then may rshell say what it asked for.
GENERIC_NOT_FOUND = frozenset({"", "not found", "no details", "the requested resource could not be found"})


def says_nothing(detail: str) -> bool:
    """A 404's detail that names nothing (`Not found.`, Replicate's generic sentence, no body)."""
    return detail.strip().rstrip(".").lower() in GENERIC_NOT_FOUND


def error_for_response(
    response: httpx.Response, *, not_found: str | None = None, secret: str | None = None
) -> RshellError:
    """The exception for a non-2xx response (its body must already be read).

    The server's `detail` is the message: it knows which of the things a request
    names was missing (a training's destination, not its version). Only a 404 that
    names nothing is told as `<what rshell asked for> not found`."""
    status = response.status_code
    detail = scrub(detail_of(response.text, response.reason_phrase), secret)
    if status == 401:
        return AuthError(f"authentication failed: {detail}", AUTH_HINT)
    if status == 404 and not_found and says_nothing(detail):
        return ApiError(status, f"{not_found} not found")
    return ApiError(status, detail)


def network_error(url: str, exc: BaseException, secret: str | None = None, *, api: bool = True) -> NetworkError:
    """`cannot reach <host>: <reason>` for a connection that never worked out; the
    hint points at REPLICATE_BASE_URL only when the host is the API's (`api`), not
    for a URL the user or a result gave."""
    from rshell.client.urls import netloc_of

    reason = one_line(str(exc)) or type(exc).__name__
    return NetworkError(f"cannot reach {netloc_of(url)}: {scrub(reason, secret)}", NETWORK_HINT if api else URL_HINT)


def missing_token() -> AuthError:
    return AuthError("no API token", AUTH_HINT)
