"""Budgets (issue 13 item 5, issue 21): a batch's throughput is limited by the API,
not by rshell, and its memory stays flat from 1,000 to 10,000 rows.

(a) Throughput: rounds of ROWS rows of 0 s work through a live sandbox (in a process
of its own). The baseline is the least any client can do at the same concurrency: a
plain httpx loop that creates each row with `Prefer: wait` (the answer carries the
end) and gets it until done if not. rshell's `batch` of the same rows, with an
--output file, is held to it in seconds per row, and to about one request a row. The
two sides run in interleaved rounds (A B A B …, medians; a miss measured once more),
so load that changes during the run slows both alike.

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
from rounds import Loop, ratio_in_rounds

from rshell.client.api import ReplicateClient
from rshell.executor import Executor
from rshell.rendering.output import Output
from rshell.session.state import Session

pytestmark = pytest.mark.benchmark

MODEL = "bench/sleeper"
ROWS = 200  # a round: enough rows that a round is not dominated by its start and end
ROUNDS = 3
CONCURRENCY = 8
THROUGHPUT_BUDGET = 1.25  # seconds per row, batch / the plain loop, same rows and concurrency
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


async def plain_loop(http: httpx.AsyncClient, version: str, count: int) -> None:
    """`count` creates with `Prefer: wait`, each got again with no pause until done."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(n: int) -> None:
        async with gate:
            body = {"version": version, "input": {"x": n, "seconds": 0}}
            reply = await http.post("/predictions", json=body, headers={"Prefer": "wait"})
            prediction = reply.json()
            for _ in range(10_000):  # bounded: a 0 s prediction is done within a few gets
                if prediction["status"] in ("succeeded", "failed", "canceled"):
                    return
                prediction = (await http.get(f"/predictions/{prediction['id']}")).json()
            raise AssertionError("the sandbox never finished a 0 s prediction")

    await asyncio.gather(*(one(n) for n in range(count)))


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


class Sides:
    """The two sides of the throughput budget, each a plain callable for one round."""

    def __init__(self, loop: Loop, url: str, token: str, version: str, folder: Path) -> None:
        self.loop, self.version, self.folder = loop, version, folder
        self.ref = f"{MODEL}:{version}"
        self.rows = write_rows(folder / "rows.jsonl", ROWS)
        self.out = Output(io.StringIO(), io.StringIO(), json_mode=True)
        self.batched = Counting()
        self.executor = Executor(Session(), self.out, lambda: ReplicateClient(token, url, transport=self.batched))
        headers = {"Authorization": f"Bearer {token}"}
        self.http = httpx.AsyncClient(base_url=url, headers=headers, timeout=90)
        self.rounds = 0
        self.requests: list[int] = []  # what each batch round sent

    def plain(self) -> None:
        self.loop.run(plain_loop(self.http, self.version, ROWS))

    def batch(self) -> None:
        self.rounds += 1
        output = self.folder / f"results-{self.rounds}.jsonl"  # a fresh file: every row runs
        before = self.batched.sent
        self.loop.run(run_batch(self.executor, self.out, self.ref, self.rows, output))
        self.requests.append(self.batched.sent - before)
        finished = [json.loads(line) for line in output.read_text().splitlines()]
        assert sum(r["status"] == "succeeded" for r in finished) == ROWS

    def close(self) -> None:
        self.loop.run(self.executor.aclose())
        self.loop.run(self.http.aclose())


def test_batch_rows_of_0s_run_at_the_sandboxs_own_rate(tmp_path: Path) -> None:
    proc, url, token, version = sandbox_process()
    loop = Loop()
    sides = Sides(loop, url, token, version, tmp_path)
    try:
        assert loop.run(sides.executor.run_text(f"run {sides.ref} x=0 seconds=0")) == 0  # warm: the schema
        ratio_in_rounds(
            f"seconds per row: batch of {ROWS} rows of 0 s / a plain httpx loop (concurrency {CONCURRENCY})",
            ROUNDS,
            sides.batch,
            sides.plain,
            THROUGHPUT_BUDGET,
            lambda batch, plain: (
                f"batch {ROWS / batch:.0f} rows/s, plain loop {ROWS / plain:.0f} rows/s"
                f" (medians of {ROUNDS} interleaved rounds)"
            ),
        )
    finally:
        sides.close()
        loop.close()
        proc.communicate("", timeout=30)
    # One request a row: the create's answer (Prefer: wait) carries the end, and the
    # id is recorded from it; no event stream, no busy poll.
    assert max(sides.requests) <= ROWS + 5, sides.requests


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
