"""Budget (SPEC 10): a prediction that the server finishes in T ms, inside the sync
wait window, is reported within T + one round trip + 20 ms.

rshell's real path against a live in-process sandbox: the Executor runs
`run owner/name:version x=1` with a real ReplicateClient over loopback. T is what the
server reports for the prediction (metrics.total_time, created_at → completed_at), and
one round trip is the median of a trivial authenticated GET on the same client,
measured between the runs (interleaved), so a busy machine slows both sides alike,
and so is the machine's contention (wall time / CPU time of a fixed computation, 1
when idle): the 20 ms of rshell's own work is allowed that many times longer. A miss
is measured once more before it fails. The overhead
(elapsed − T − round trip) is rshell's own cost plus the server's hand-back: it stays
small only if the create is held with `Prefer: wait` and answered the moment the
prediction finishes (a poll tick would add 100 ms).
"""

from __future__ import annotations

import asyncio
import io
import statistics
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from budgets import Figure, contention, within_budget
from sleeper_model import cog_schema

from rshell.client.api import ReplicateClient
from rshell.executor import Executor
from rshell.rendering.output import Output
from rshell.sandbox.predictors.base import RunContext
from rshell.session.state import Session

pytestmark = pytest.mark.benchmark

MODEL = "bench/sleeper"
SLEEP_S = 0.100  # the model's own time: T is this plus the server's bookkeeping
RUNS = 7
PINGS_PER_RUN = 3
BUDGET_S = 0.020


class Sleeper:
    """A Cog-shaped model that takes a fixed time and returns a string."""

    name = MODEL
    description = "sleeps, then answers"
    hardware = "cpu"
    trainable = False

    def openapi_schema(self) -> dict[str, Any]:
        return cog_schema(x={"type": "integer", "title": "X", "x-order": 0})

    def predict(self, inputs: dict[str, Any], run: RunContext, weights: dict[str, Any] | None = None) -> str:
        time.sleep(SLEEP_S)
        return f"slept x={inputs['x']}"


class CountingTransport(httpx.AsyncHTTPTransport):
    """Records each request's method and path, to show what a warm run costs."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        return await super().handle_async_request(request)


@pytest.fixture
def sleeper_sandbox() -> Iterator[Any]:
    from rshell.sandbox.server import start

    handle = start(predictors={MODEL: Sleeper()})
    try:
        yield handle
    finally:
        handle.stop()


async def _timed(action: Any) -> float:
    start = time.perf_counter()
    await action()
    return time.perf_counter() - start


async def _measure(handle: Any) -> tuple[list[float], list[float], list[float], list[list[str]], list[float]]:
    """Elapsed per warm run, T per run, round trips, each warm run's requests, contention."""
    version = handle.sandbox.latest_version(MODEL)["id"]
    command = f"run {MODEL}:{version} x=1"
    transport = CountingTransport()
    session = Session()
    out = Output(io.StringIO(), io.StringIO(), json_mode=False)
    executor = Executor(session, out, lambda: ReplicateClient(handle.token, handle.url, transport=transport))
    elapsed: list[float] = []
    server_times: list[float] = []
    pings: list[float] = []
    requests: list[list[str]] = []
    load: list[float] = []
    try:
        assert await executor.run_text(command) == 0, out.stderr.getvalue()  # warm: fetches the schema
        client = await executor.client()
        for _ in range(RUNS):
            pings += [await _timed(client.hardware_list) for _ in range(PINGS_PER_RUN)]
            load.append(contention())
            transport.requests.clear()
            start = time.perf_counter()
            code = await executor.run_text(command)
            elapsed.append(time.perf_counter() - start)
            assert code == 0, out.stderr.getvalue()
            assert session.last["status"] == "succeeded" and session.last["output"] == "slept x=1"
            server_times.append(float(session.last["metrics"]["total_time"]))
            requests.append(list(transport.requests))
    finally:
        await executor.aclose()
    assert out.stdout.getvalue().count("slept x=1") == RUNS + 1  # every run was reported
    return elapsed, server_times, pings, requests, load


def test_sync_prediction_is_reported_within_T_plus_a_round_trip_plus_20ms(sleeper_sandbox: Any) -> None:
    def measure() -> Figure:
        elapsed, server_times, pings, requests, load = asyncio.run(_measure(sleeper_sandbox))
        # A warm run of a versioned ref is one request: the create, held with Prefer: wait.
        assert all(r == ["POST /v1/predictions"] for r in requests), requests
        assert min(server_times) >= SLEEP_S  # the server really held the request for the run
        round_trip = statistics.median(pings)
        overheads = [e - t - round_trip for e, t in zip(elapsed, server_times, strict=True)]
        overhead = statistics.median(overheads)
        report = (
            f"median overhead {overhead * 1000:.2f} ms over T (median {statistics.median(server_times) * 1000:.1f} ms)"
            f" + round trip ({round_trip * 1000:.2f} ms); runs: {[round(o * 1000, 2) for o in overheads]};"
            f" contention {statistics.median(load):.2f}"
        )
        served = statistics.median(server_times) + round_trip
        # T + one round trip + 20 ms (times the contention), as a ratio of T + one round trip
        limit = (served + BUDGET_S * statistics.median(load)) / served
        return Figure(
            "sync run reported: elapsed / (T + round trip)", statistics.median(elapsed), served, limit, report
        )

    within_budget(measure)
