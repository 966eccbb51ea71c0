"""Fetch what completion lacks, in the background, and swap it into the cache.

The engine calls `want(kind, key)` on every keystroke it lacks data for; that must
cost nothing and never raise, so `want` only checks freshness and hands the work to
the event loop (thread-safely: prompt-toolkit may complete in a worker thread).
Fetches for the same kind:key are never run twice at once, a failed one is not
retried for a while, and model search waits for a pause in typing (debounce) so each
keystroke does not become a request. When data lands, `on_update` fires so the REPL
can redraw the menu.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from rshell.completion.cache import CompletionCache
from rshell.completion.sources import FETCHES

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient

log = logging.getLogger(__name__)

RETRY_AFTER_FAILURE = 30.0
DEBOUNCE = 0.15


class Refresher:
    """Background fetches into a CompletionCache, on `loop` (the REPL's event loop).

    Without a loop, the loop running when `want` is first called is used; when none
    is running, a private daemon thread runs one (the client must then be usable there).
    """

    def __init__(
        self,
        get_client: Callable[[], Awaitable[ReplicateClient]],
        cache: CompletionCache,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.get_client = get_client
        self.cache = cache
        self.loop = loop
        self.on_update: Callable[[], None] | None = None
        self.debounce = DEBOUNCE
        self._inflight: set[tuple[str, str]] = set()
        self._failed: dict[tuple[str, str], float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._search: asyncio.TimerHandle | None = None
        self._search_key: tuple[str, str] | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.requested: list[tuple[str, str]] = []  # what want() scheduled, oldest first

    # the engine's side: cheap, thread-safe, never raises -----------------------------
    def want(self, kind: str, key: str = "") -> None:
        """Schedule a fetch of kind:key when it is missing or stale."""
        try:
            if not self.needed(kind, key):
                return
            loop = self._loop()
            self.requested.append((kind, key))
            del self.requested[:-100]
            if _running_loop() is loop:
                self._schedule(kind, key)
            else:
                loop.call_soon_threadsafe(self._schedule, kind, key)
        except Exception:  # completion must never break typing
            log.debug("completion refresh of %s:%s not scheduled", kind, key, exc_info=True)

    def needed(self, kind: str, key: str = "") -> bool:
        """Whether kind:key is unknown or stale, and not being fetched or cooling off."""
        source = FETCHES.get(kind)
        if source is None:
            return False
        item = (kind, key)
        if item in self._inflight or item == self._search_key:
            return False
        failed = self._failed.get(item)
        if failed is not None and time.monotonic() - failed < RETRY_AFTER_FAILURE:
            return False
        age = self.cache.age(kind, key)
        return age is None or age >= source.ttl

    # the loop's side ---------------------------------------------------------------------
    def _loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self.loop is None:
                self.loop = _running_loop() or self._start_thread()
            return self.loop

    def _start_thread(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=loop.run_forever, name="rshell-completion", daemon=True)
        self._thread.start()
        return loop

    def _schedule(self, kind: str, key: str) -> None:
        """On the loop: start now, or (model search) after a pause in typing."""
        if not self.needed(kind, key):
            return
        if kind == "models" and key and self.debounce > 0:
            if self._search is not None:
                self._search.cancel()
            self._search_key = (kind, key)
            self._search = asyncio.get_running_loop().call_later(self.debounce, self._debounced)
            return
        self._start(kind, key)

    def _debounced(self) -> None:
        item, self._search_key, self._search = self._search_key, None, None
        if item is not None:
            self._start(*item)

    def _start(self, kind: str, key: str) -> None:
        item = (kind, key)
        if item in self._inflight:
            return
        self._inflight.add(item)
        task = asyncio.get_running_loop().create_task(self._run(kind, key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, kind: str, key: str) -> None:
        item = (kind, key)
        try:
            await self.fetch(kind, key)
        except asyncio.CancelledError:
            raise
        except Exception:
            self._failed[item] = time.monotonic()
            log.debug("completion fetch %s:%s failed", kind, key, exc_info=True)
            return
        finally:
            self._inflight.discard(item)
        self._failed.pop(item, None)
        self._notify()

    def _notify(self) -> None:
        callback = self.on_update
        if callback is None:
            return
        try:
            callback()
        except Exception:
            log.debug("completion on_update failed", exc_info=True)

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until no fetch is pending or running (True), or `timeout` passes (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._tasks or self._search is not None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            if self._tasks:
                await asyncio.wait(set(self._tasks), timeout=left)
            else:
                await asyncio.sleep(min(0.01, left) if left is not None else 0.01)
        return True

    def stop(self) -> None:
        """Cancel what is pending; safe from any thread, and more than once."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        try:
            if _running_loop() is loop:
                self.cancel_pending()
            else:
                loop.call_soon_threadsafe(self.cancel_pending)
            if self._thread is not None:
                loop.call_soon_threadsafe(loop.stop)
        except RuntimeError:
            pass

    def cancel_pending(self) -> None:
        """On the loop: drop the debounced search and cancel running fetches."""
        if self._search is not None:
            self._search.cancel()
            self._search, self._search_key = None, None
        for task in list(self._tasks):
            task.cancel()

    # fetching ------------------------------------------------------------------------------
    async def fetch(self, kind: str, key: str = "") -> None:
        """Fetch kind:key from the API into the cache now (raises what the client raises)."""
        client = await self.get_client()
        await FETCHES[kind].fetch(client, self.cache, key)
        self.cache.mark(kind, key)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
