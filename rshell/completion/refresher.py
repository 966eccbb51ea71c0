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
from typing import TYPE_CHECKING, Any

from rshell.client.fields import attr
from rshell.completion.cache import CompletionCache, ModelInfo, VersionInfo
from rshell.completion.matcher import Candidate
from rshell.completion.meta import join, one_line

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient

log = logging.getLogger(__name__)

# Seconds a fetched kind stays fresh: ids change fast, hardware and schemas slowly.
TTL: dict[str, float] = {
    "models": 600,
    "schema": 3600,
    "versions": 600,
    "hardware": 86400,
    "predictions": 30,
    "trainings": 30,
    "deployments": 120,
    "files": 120,
    "collections": 3600,
    "account": 86400,
}
KINDS = frozenset(TTL)
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
        if kind not in KINDS:
            return False
        item = (kind, key)
        if item in self._inflight or item == self._search_key:
            return False
        failed = self._failed.get(item)
        if failed is not None and time.monotonic() - failed < RETRY_AFTER_FAILURE:
            return False
        age = self.cache.age(kind, key)
        return age is None or age >= TTL[kind]

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
        await _FETCHERS[kind](client, self.cache, key)
        self.cache.mark(kind, key)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _model_info(m: Any) -> ModelInfo:
    return ModelInfo(
        f"{attr(m, 'owner')}/{attr(m, 'name')}", one_line(attr(m, "description")), int(attr(m, "run_count") or 0)
    )


async def _models(client: ReplicateClient, cache: CompletionCache, key: str) -> None:
    page = await (client.models_search(key) if key else client.models_list())
    cache.put_models((_model_info(m) for m in attr(page, "results", [])), query=key or None)


async def _schema(client: ReplicateClient, cache: CompletionCache, key: str) -> None:
    """`owner/name` → the latest version's schema; `owner/name:id` → that version's."""
    model, _, version_id = key.partition(":")
    owner, _, name = model.partition("/")
    if version_id:
        pinned = await client.models_versions_get(owner, name, version_id)
        cache.put_version_schema(version_id, pinned.openapi_schema)
        return
    found = await client.models_get(owner, name)
    latest = found.latest_version  # None for a model with no version yet: only its info is kept
    schema, latest_id = (latest.openapi_schema, latest.id) if latest is not None else (None, None)
    cache.put_schema(model, schema, latest_id, _model_info(found))


async def _versions(client: ReplicateClient, cache: CompletionCache, key: str) -> None:
    owner, _, name = key.partition("/")
    page = await client.models_versions_list(owner, name)
    versions = [VersionInfo(str(attr(v, "id")), str(attr(v, "created_at") or "")) for v in attr(page, "results", [])]
    cache.put_versions(key, versions)
    for v in attr(page, "results", []):
        cache.put_version_schema(str(attr(v, "id")), attr(v, "openapi_schema"))


async def _hardware(client: ReplicateClient, cache: CompletionCache, key: str) -> None:
    found = await client.hardware_list()
    cache.put_list("hardware", [Candidate(str(attr(h, "sku")), one_line(attr(h, "name"))) for h in found])


async def _runs(kind: str, page: Any, cache: CompletionCache) -> None:
    """Prediction or training ids, newest first; their models count as recent."""
    runs = list(attr(page, "results", []))
    items = [
        Candidate(str(attr(r, "id")), join(attr(r, "model"), attr(r, "status"), _date(attr(r, "created_at"))))
        for r in runs
    ]
    cache.put_list(kind, items)
    cache.add_recent_models([str(attr(r, "model")) for r in runs if attr(r, "model")])


async def _predictions(client: ReplicateClient, cache: CompletionCache, key: str) -> None:
    await _runs("predictions", await client.predictions_list(), cache)


async def _trainings(client: ReplicateClient, cache: CompletionCache, key: str) -> None:
    await _runs("trainings", await client.trainings_list(), cache)


async def _deployments(client: ReplicateClient, cache: CompletionCache, key: str) -> None:
    page = await client.deployments_list()
    items = []
    for d in attr(page, "results", []):
        release = attr(d, "current_release")
        config = attr(release, "configuration")
        items.append(
            Candidate(f"{attr(d, 'owner')}/{attr(d, 'name')}", join(attr(release, "model"), attr(config, "hardware")))
        )
    cache.put_list("deployments", items)


async def _files(client: ReplicateClient, cache: CompletionCache, key: str) -> None:
    page = await client.files_list()
    items = [
        Candidate(str(attr(f, "id")), join(attr(f, "name"), attr(f, "content_type"), _date(attr(f, "created_at"))))
        for f in attr(page, "results", [])
    ]
    cache.put_list("files", items)


async def _collections(client: ReplicateClient, cache: CompletionCache, key: str) -> None:
    page = await client.collections_list()
    items = [
        Candidate(str(attr(c, "slug")), join(attr(c, "name"), attr(c, "description")))
        for c in attr(page, "results", [])
    ]
    cache.put_list("collections", items)


async def _account(client: ReplicateClient, cache: CompletionCache, key: str) -> None:
    cache.set_username(attr(await client.account_get(), "username"))


def _date(value: Any) -> str:
    """`2024-05-01T12:00:00Z` → `2024-05-01 12:00`."""
    return str(value or "")[:16].replace("T", " ")


_FETCHERS: dict[str, Callable[[Any, CompletionCache, str], Awaitable[None]]] = {
    "models": _models,
    "schema": _schema,
    "versions": _versions,
    "hardware": _hardware,
    "predictions": _predictions,
    "trainings": _trainings,
    "deployments": _deployments,
    "files": _files,
    "collections": _collections,
    "account": _account,
}
