"""Waiting on the sandbox by its events, never by the clock.

A test that needs a run to reach a point waits for the thing that marks that point:
an event in the run's `EventLog` (the same log its SSE stream follows), a fake's gate
being reached, or the worker thread returning. `HANG` only bounds a hang, so a broken
server fails its test instead of stalling the suite; no test asserts on it.
(This module holds no tests itself.)
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from rshell.sandbox.events import Event
from rshell.sandbox.runner import Job, Runner

HANG = 30.0  # seconds: long enough for any loaded machine, short enough to fail a hung test


def wait_event(handle: Any, kind: str, run_id: str, name: str) -> Event:
    """The first `name` event of a run, as soon as the worker appends it."""

    async def first() -> Event:
        async for item in handle.sandbox.events_for(kind, run_id).follow(0):
            if item is not None and item.event == name:
                return item
            if item is not None and item.event == "done":
                break
        raise AssertionError(f"{kind[:-1]} {run_id} ended without a {name} event")

    async def bounded() -> Event:
        return await asyncio.wait_for(first(), HANG)

    return asyncio.run(bounded())


def wait_finished(handle: Any, kind: str, run_id: str) -> None:
    """Block until the run reached a terminal status (its `done` event)."""
    wait_event(handle, kind, run_id, "done")


class Workers:
    """Knows when the worker running a job has returned: the predictor is done with it,
    so anything it did late (a release after a cancel, weights after a cancel) is in."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._returned: defaultdict[str, threading.Event] = defaultdict(threading.Event)
        self._lock = threading.Lock()
        original = Runner._run

        def run(runner: Runner, job: Job) -> None:
            try:
                original(runner, job)
            finally:
                self._event(job.id).set()

        monkeypatch.setattr(Runner, "_run", run)

    def _event(self, job_id: str) -> threading.Event:
        with self._lock:
            return self._returned[job_id]

    def wait(self, job_id: str) -> None:
        assert self._event(job_id).wait(HANG), f"the worker of {job_id} never returned"


@dataclass
class Webhooks:
    """What a webhook receiver on 127.0.0.1 got: (lower-cased headers, body) per POST;
    `arrived` is set by the first delivery `until` accepts."""

    url: str
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)


@contextlib.contextmanager
def webhook_receiver(until: Callable[[bytes], bool] = lambda body: True) -> Iterator[Webhooks]:
    """A stdlib server that records the webhooks the sandbox posts (answers 204)."""
    hooks: list[Webhooks] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["content-length"]))
            hooks[0].received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()
            if until(body):
                hooks[0].arrived.set()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    hooks.append(Webhooks(f"http://127.0.0.1:{server.server_address[1]}/hook"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield hooks[0]
    finally:
        server.shutdown()
        server.server_close()


def events_of(run: dict[str, Any]) -> str:
    """A run's event log, served at `…/{id}/stream` for every prediction so tests can
    read it; only a model whose output streams advertises it as `urls.stream`."""
    return f"{run['urls']['get']}/stream"
