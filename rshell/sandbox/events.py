"""The ordered event log of one prediction, shared by its worker and its SSE readers.

The worker thread appends (`output`, `logs`, `error`, `done`); each event gets the next
integer id, so a reader reconnecting with `Last-Event-ID: N` resumes after event N and
a reader arriving after the end replays everything. Readers live on the server's
asyncio loop; appends wake them with `call_soon_threadsafe`, so a token reaches the
socket without polling delays.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    id: int
    event: str  # output | logs | error | done
    data: Any  # a str is sent as-is; anything else as JSON

    def as_list(self) -> list[Any]:
        return [self.id, self.event, self.data]


class EventLog:
    """Append-only events with async followers."""

    def __init__(self, events: list[Event] | None = None) -> None:
        self._events: list[Event] = list(events or [])
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._released = False  # the server is stopping: followers stop waiting

    @classmethod
    def from_lists(cls, rows: list[list[Any]]) -> EventLog:
        """Rebuild a finished log from its persisted form."""
        return cls([Event(int(r[0]), str(r[1]), r[2]) for r in rows])

    def append(self, event: str, data: Any) -> Event:
        with self._lock:
            item = Event(len(self._events) + 1, event, data)
            self._events.append(item)
        self._wake()
        return item

    def release(self) -> None:
        """The server is stopping: every follower returns what it has now, so a held
        `Prefer: wait` answers and a stream ends, instead of being cancelled mid-wait."""
        with self._lock:
            self._released = True
        self._wake()

    def _wake(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for loop, flag in waiters:
            with contextlib.suppress(RuntimeError):  # the reader's loop has closed; nothing to wake
                loop.call_soon_threadsafe(flag.set)

    @property
    def finished(self) -> bool:
        with self._lock:
            return bool(self._events) and self._events[-1].event == "done"

    def since(self, after: int) -> list[Event]:
        """Events with id > `after`."""
        with self._lock:
            return self._events[max(after, 0) :]

    def as_lists(self) -> list[list[Any]]:
        with self._lock:
            return [e.as_list() for e in self._events]

    async def follow(self, after: int = 0, keepalive: float = 15.0) -> AsyncIterator[Event | None]:
        """Yield events after `after` until `done`; `None` means "send a keep-alive"."""
        position = after
        while True:
            flag = asyncio.Event()
            waiter = (asyncio.get_running_loop(), flag)
            with self._lock:
                self._waiters.add(waiter)
            try:
                pending = self.since(position)
                for item in pending:
                    yield item
                    position = item.id
                    if item.event == "done":
                        return
                if not pending and self._released:
                    return
                if not pending:
                    try:
                        await asyncio.wait_for(flag.wait(), keepalive)
                    except TimeoutError:
                        yield None
            finally:
                with self._lock:
                    self._waiters.discard(waiter)

    async def wait_done(self, timeout: float) -> bool:
        """Wait until the log ends with `done` or `timeout` passes; True if done."""

        async def _until_done() -> None:
            async for item in self.follow(0, keepalive=timeout + 1):
                if item is not None and item.event == "done":
                    return

        if self.finished:
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_until_done(), timeout)
        return self.finished
