"""When to retry a request and how long to wait (SPEC section 8).

Reads (GET, QUERY, HEAD) are safe to repeat, so they retry on 429, 5xx and
connection failures. Creates and other mutations (POST, PATCH, PUT, DELETE) retry
only on 429, which the server sends before doing anything: a 500 or a dropped
connection after a POST may mean the prediction already exists, and running it
twice would cost the user twice.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

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


@dataclass
class RetryPolicy:
    """Capped exponential backoff with jitter; `sleep` is injectable for tests."""

    max_retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0  # never park a shell for longer on a server's say-so
    sleep: Sleep = field(default=asyncio.sleep)
    rand: Callable[[], float] = field(default=random.random)

    def backoff(self, attempt: int) -> float:
        """Delay before retry number `attempt` (0-based): half fixed, half jitter."""
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return ceiling / 2 + self.rand() * ceiling / 2

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """`Retry-After` wins when the server sent one; else the backoff."""
        told = parse_retry_after(retry_after)
        if told is not None:
            return min(told, self.max_retry_after)
        return self.backoff(attempt)

    def can_retry(self, attempt: int) -> bool:
        return attempt < self.max_retries
