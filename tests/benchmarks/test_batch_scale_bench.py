"""Budgets (issue 13 item 5): a batch's throughput is limited by the API, not by rshell,
and its memory stays flat from 1,000 to 10,000 rows.

(a) Throughput: 1,000 rows of 0 s work through a live sandbox (in a process of its
own). The baseline is the sandbox's own request rate, measured in the same run by a
plain httpx loop at the same concurrency (create, then get until done: the least any
client can do). rshell's `batch` of the same rows is held to it in seconds per
request, and to at most three requests a row.

(b) Memory: the peak of what Python allocates while `batch` runs (tracemalloc), for
1,000 and then 10,000 rows, against a fake server in the same process (an
httpx.MockTransport that answers every create at once with a finished prediction,
and keeps nothing), so 10,000 rows take seconds. Flat means the batch holds no
per-row state beyond the rows in flight: rows are read one at a time and results
go to `--output` as they finish.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import httpx
import pytest
from budgets import check_ratio

from rshell.client.api import ReplicateClient
from rshell.executor import Executor
from rshell.rendering.output import Output
from rshell.session.state import Session

pytestmark = pytest.mark.benchmark

MODEL = "bench/sleeper"
ROWS = 1_000
CONCURRENCY = 8
THROUGHPUT_BUDGET = 1.25  # seconds per request, batch / the plain loop, same rows and concurrency
MEMORY_BUDGET = 1.5  # peak allocation at 10,000 rows / at 1,000 rows
VERSION = "f" * 64  # a bare version id: the fake server needs no model lookups


def write_rows(path: Path, count: int) -> Path:
    with path.open("w") as handle:
        for n in range(count):
            handle.write(json.dumps({"x": n, "seconds": 0}) + "\n")
    return path


class Counting(httpx.AsyncHTTPTransport):
    """A real transport that counts the requests it sends (event streams too)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return await super().handle_async_request(request)


async def plain_loop(url: str, token: str, version: str, count: int, transport: Counting) -> float:
    """The sandbox's own rate: `count` creates, each polled with no pause until done."""
    headers = {"Authorization": f"Bearer {token}"}
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, transport=transport) as http:

        async def one(n: int) -> None:
            async with gate:
                reply = await http.post("/predictions", json={"version": version, "input": {"x": n, "seconds": 0}})
                prediction = reply.json()
                for _ in range(10_000):  # bounded: a 0 s prediction is done within a few gets
                    if prediction["status"] in ("succeeded", "failed", "canceled"):
                        return
                    prediction = (await http.get(f"/predictions/{prediction['id']}")).json()
                raise AssertionError("the sandbox never finished a 0 s prediction")

        start = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(count)))
        return time.perf_counter() - start


async def run_batch(executor: Executor, out: Output, ref: str, rows: Path, output: Path) -> float:
    start = time.perf_counter()
    code = await executor.run_text(f"batch {ref} --inputs {rows} --output {output} --concurrency {CONCURRENCY}")
    assert code == 0, out.stderr.getvalue()  # type: ignore[attr-defined]
    return time.perf_counter() - start


# The sandbox runs in a process of its own: in this one it would share the client's
# interpreter lock, and every bit of client work would slow the server down with it.
SERVE = f"""
import sys
from sleeper_model import Sleeper
from rshell.sandbox.server import start
handle = start(predictors={{"{MODEL}": Sleeper(0.0, "{MODEL}")}}, workers={CONCURRENCY})
print(handle.url, handle.token, handle.sandbox.latest_version("{MODEL}")["id"], flush=True)
sys.stdin.read()  # until the test closes it
handle.stop()
"""


def sandbox_process() -> tuple[subprocess.Popen[str], str, str, str]:
    tests = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests), str(tests.parent)])}
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    url, token, version = proc.stdout.readline().split()
    return proc, url, token, version


def test_1000_rows_of_0s_run_at_the_sandboxs_own_rate(tmp_path: Path) -> None:
    proc, url, token, version = sandbox_process()
    rows = write_rows(tmp_path / "rows.jsonl", ROWS)
    out = Output(io.StringIO(), io.StringIO(), json_mode=True)

    looped, batched = Counting(), Counting()

    async def main() -> tuple[float, float]:
        ref = f"{MODEL}:{version}"
        executor = Executor(Session(), out, lambda: ReplicateClient(token, url, transport=batched))
        try:
            await plain_loop(url, token, version, 20, Counting())  # warm both sides alike
            assert await executor.run_text(f"run {ref} x=0 seconds=0") == 0
            batched.sent = 0
            loop = await plain_loop(url, token, version, ROWS, looped)
            batch = await run_batch(executor, out, ref, rows, tmp_path / "results.jsonl")
            return loop, batch
        finally:
            await executor.aclose()

    try:
        loop, batch = asyncio.run(main())
    finally:
        proc.communicate("", timeout=30)
    finished = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert sum(r["status"] == "succeeded" for r in finished) == ROWS
    # Each row costs rshell a create, an event stream and a final get, where the loop
    # needs a create and a get: the id is recorded before any waiting, and the stream
    # reports a long prediction the moment it ends. So the budget compares request
    # rates: the API serves rshell's requests as fast as the loop's, rshell adds no wait.
    assert batched.sent <= 3 * ROWS + 5, batched.sent  # the schema lookup and no busy poll
    check_ratio(
        f"seconds per request: batch of {ROWS} rows of 0 s / a plain httpx loop (concurrency {CONCURRENCY})",
        batch / batched.sent,
        loop / looped.sent,
        THROUGHPUT_BUDGET,
        f"batch {ROWS / batch:.0f} rows/s in {batched.sent} requests, plain loop {ROWS / loop:.0f} rows/s"
        f" in {looped.sent}",
    )


class FastServer:
    """Answers every create at once with a finished prediction; remembers only a count."""

    def __init__(self) -> None:
        self.creates = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v1/predictions":
            self.creates += 1
            body = json.loads(request.content)
            pid = f"p{self.creates}"
            get = f"https://api.fake.test/v1/predictions/{pid}"
            return httpx.Response(
                201,
                json={
                    "id": pid,
                    "model": "bench/fast",
                    "version": VERSION,
                    "input": body["input"],
                    "logs": "",
                    "output": f"out {body['input']['x']}",
                    "error": None,
                    "status": "succeeded",
                    "created_at": "2026-01-01T00:00:00Z",
                    "urls": {"get": get, "cancel": get + "/cancel"},
                },
            )
        return httpx.Response(404, json={"detail": "not here"})


def batch_peak(tmp_path: Path, count: int) -> tuple[float, int]:
    """(seconds, peak bytes allocated while `batch` ran) for `count` rows."""
    rows = write_rows(tmp_path / f"rows-{count}.jsonl", count)
    server = FastServer()
    out = Output(io.StringIO(), io.StringIO(), json_mode=True)
    transport = httpx.MockTransport(server)
    session = Session()

    async def main() -> tuple[float, int]:
        executor = Executor(
            session, out, lambda: ReplicateClient("r8_fake", "https://api.fake.test/v1", transport=transport)
        )
        try:
            tracemalloc.start()
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            seconds = await run_batch(executor, out, VERSION, rows, tmp_path / f"results-{count}.jsonl")
            peak = tracemalloc.get_traced_memory()[1] - base
            tracemalloc.stop()
            return seconds, peak
        finally:
            await executor.aclose()

    seconds, peak = asyncio.run(main())
    assert server.creates == count
    return seconds, peak


def test_memory_is_flat_from_1000_to_10000_rows(tmp_path: Path) -> None:
    batch_peak(tmp_path, 100)  # warm: imports and caches land outside the measurements
    small_s, small = batch_peak(tmp_path, 1_000)
    large_s, large = batch_peak(tmp_path, 10_000)
    check_ratio(
        "peak memory of a batch of 10,000 rows / of 1,000 rows",
        large,
        small,
        MEMORY_BUDGET,
        f"{large / 1e6:.2f} MB vs {small / 1e6:.2f} MB; {10_000 / large_s:.0f} and {1_000 / small_s:.0f} rows/s",
    )
