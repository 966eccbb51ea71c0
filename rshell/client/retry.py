"""When to retry a request and how long to wait (SPEC section 8).

Reads (GET, QUERY, HEAD) are safe to repeat, so they retry on 429, 5xx and
connection failures. Creates and other mutations (POST, PATCH, PUT, DELETE) retry
only on 429, which the server sends before doing anything: a 500 or a dropped
connection after a POST may mean the prediction already exists, and running it
twice would cost the user twice.

Waiting is bounded (SPEC 8): one request waits at most `budget` seconds over all its
retries. A server that asks for longer (`Retry-After: 999999`, a date years ahead)
gets no silent wait: the request fails at once with `RetryLater`, which says when to
try again.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime

import msgspec

from rshell.errors import ApiError

SAFE_METHODS = frozenset({"GET", "HEAD", "QUERY", "OPTIONS"})

Sleep = Callable[[float], Awaitable[None]]


def is_read(method: str) -> bool:
    return method.upper() in SAFE_METHODS


def retryable_status(method: str, status: int) -> bool:
    """429 for everyone; 5xx only for reads."""
    if status == 429:
        return True
    return is_read(method) and 500 <= status <= 599


def retryable_connection_error(method: str) -> bool:
    """A dropped connection is only retried for reads (a create may have landed)."""
    return is_read(method)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP-date."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


# Replicate's throttling detail: "Request was throttled. Expected available in 1 second."
_AVAILABLE_IN = re.compile(r"available in (\d+(?:\.\d+)?) ?s(?:ec(?:ond)?s?)?\b", re.IGNORECASE)


def wait_from_detail(detail: str | None) -> float | None:
    """Seconds a throttled response's body asks for, when it has no Retry-After."""
    found = _AVAILABLE_IN.search(detail or "")
    return float(found.group(1)) if found else None


def format_wait(seconds: float) -> str:
    """`7s`, `4m10s`, `3h05m`, `11d13h`: how long, readable at a glance."""
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 and seconds != int(seconds) else f"{int(seconds)}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


class RetryLater(ApiError):
    """The server asked to retry later than rshell waits: fail now, say when to retry."""

    def __init__(self, status: int, detail: str, seconds: float, budget: float, now: float | None = None) -> None:
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime((time.time() if now is None else now) + seconds))
        self.retry_after = seconds
        super().__init__(
            status,
            f"{detail}; the API asks to wait {format_wait(seconds)}",
            f"try again after {when} (rshell waits at most {format_wait(budget)} on its own)",
        )


class RetryPolicy(msgspec.Struct):
    """Capped exponential backoff with jitter; `sleep` is injectable for tests."""

    max_retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    budget: float = 60.0  # seconds one request may spend waiting over all its retries
    sleep: Sleep = msgspec.field(default=asyncio.sleep)
    rand: Callable[[], float] = msgspec.field(default=random.random)

    def backoff(self, attempt: int) -> float:
        """Delay before retry number `attempt` (0-based): half fixed, half jitter."""
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return ceiling / 2 + self.rand() * ceiling / 2

    def told(self, retry_after: str | None, detail: str | None = None) -> float | None:
        """What the server asked for: `Retry-After`, else a throttled body's wait."""
        told = parse_retry_after(retry_after)
        return told if told is not None else wait_from_detail(detail)

    def delay(self, attempt: int, retry_after: str | None = None, detail: str | None = None) -> float:
        """What the server asked for wins; else the backoff."""
        told = self.told(retry_after, detail)
        return told if told is not None else self.backoff(attempt)

    def can_retry(self, attempt: int) -> bool:
        return attempt < self.max_retries
