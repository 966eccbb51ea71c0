"""Budgets for `batch` of 16 rows of a 1 s model at --concurrency 16 (SPEC 10, issues
13 and 21), against a live sandbox in a process of its own (in this one it would share
the client's interpreter lock) that, like the real API, gives a model that does not
stream no `urls.stream`: rshell cannot lean on an event stream to see a row end.

(a) Within 1.5x of the slowest row: the slowest of the same 16 rows created at once
by the least a client can do (plain httpx, `Prefer: wait`, no journal, no checks), so
the row is as slow as the server makes it under the same load. (One lone prediction
was the baseline until issue 21: on a busy machine the sandbox, one process, handles
16 creates one after the other and each row is slower than a lone one, for any
client; the real API runs rows on machines of their own.) A script of 16 `run` lines
took 17.1 s (issue 13).

(b) Within 1.1x of the official Python client (`replicate` package) running the same
16 rows with `asyncio.gather` of `async_run`, the fastest a script of the official
client does it (issue 21: 1.32x when each row was created without `Prefer: wait` and
then polled).

Each ratio comes from interleaved rounds (rounds.ratio_in_rounds), so load that
changes during the run slows both sides alike.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rounds import Loop, ratio_in_rounds

from rshell.client.api import ReplicateClient
from rshell.executor import Executor
from rshell.rendering.output import Output
from rshell.session.state import Session

pytestmark = pytest.mark.benchmark

MODEL = "bench/sleeper"
ROWS = 16
SLEEP_S = 1.0
ROUNDS = 5

# The sandbox of this branch gives every prediction an event stream; the real API gives
# one only to a model that streams (the Sleeper's output is a plain string). So this
# server drops `urls.stream` from every prediction it shows.
SERVE = f"""
import sys
from sleeper_model import Sleeper
from rshell.sandbox import render
from rshell.sandbox.server import start

shown = render.run_view
def without_stream(kind, record, origin):
    view = shown(kind, record, origin)
    view.get("urls", {{}}).pop("stream", None)
    return view
render.run_view = without_stream

handle = start(predictors={{"{MODEL}": Sleeper({SLEEP_S}, "{MODEL}")}}, workers={ROWS * 2})
print(handle.url, handle.token, handle.sandbox.latest_version("{MODEL}")["id"], flush=True)
sys.stdin.read()  # until the test closes it
handle.stop()
"""


def _remote() -> None:
    """The sandbox stands for the API, which runs on machines of its own: where the
    system allows it (root), it is not starved by load on this one, so a busy machine
    slows the clients measured here, not the server they share. Else it runs as is."""
    with contextlib.suppress(OSError):
        os.nice(-10)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, str, str]]:
    """(url, token, version id) of a sandbox process serving the 1 s model."""
    tests = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests), str(tests.parent)])}
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=_remote,
    )
    assert proc.stdout is not None
    url, token, version = proc.stdout.readline().split()
    try:
        yield url, token, version
    finally:
        proc.communicate("", timeout=30)


class Rshell:
    """An executor kept for the whole benchmark (its client and schema cache warm)."""

    def __init__(self, loop: Loop, url: str, token: str, version: str, rows: Path) -> None:
        self.out = Output(io.StringIO(), io.StringIO(), json_mode=True)
        self.session = Session()
        self.ref = f"{MODEL}:{version}"
        self.rows = rows
        self.executor = loop.run(self._make(url, token))

    async def _make(self, url: str, token: str) -> Executor:
        return Executor(self.session, self.out, lambda: ReplicateClient(token, url))

    async def line(self, text: str) -> None:
        code = await self.executor.run_text(text)
        assert code == 0, self.out.stderr.getvalue()  # type: ignore[attr-defined]

    async def batch(self) -> None:
        await self.line(f"b = batch {self.ref} --inputs {self.rows} --concurrency {ROWS}")
        assert [p["status"] for p in self.session.variables["b"]] == ["succeeded"] * ROWS


class Floor:
    """The least a client can do: the rows created at once with `Prefer: wait` over
    plain httpx; the gather lasts as long as its slowest row."""

    def __init__(self, url: str, token: str, version: str) -> None:
        import httpx

        self.version = version
        self.http = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=90)

    async def slowest_row(self) -> None:
        import asyncio

        async def one(n: int) -> str:
            body = {"version": self.version, "input": {"x": n}}
            reply = await self.http.post("/predictions", json=body, headers={"Prefer": "wait"})
            prediction = reply.json()
            assert prediction["status"] == "succeeded", prediction  # a 1 s row ends within the window
            return str(prediction["output"])

        assert await asyncio.gather(*(one(n) for n in range(ROWS))) == [f"slept x={n}" for n in range(ROWS)]


class Official:
    """The official client, as a script would use it: one Client, gather of async_run."""

    def __init__(self, url: str, token: str, version: str) -> None:
        import replicate

        self.client = replicate.Client(api_token=token, base_url=url.removesuffix("/v1"))
        self.ref = f"{MODEL}:{version}"

    async def gather(self) -> list[Any]:
        import asyncio

        outputs = await asyncio.gather(*(self.client.async_run(self.ref, input={"x": n}) for n in range(ROWS)))
        assert outputs == [f"slept x={n}" for n in range(ROWS)]
        return outputs


@pytest.fixture
def sides(server: tuple[str, str, str], tmp_path: Path) -> Iterator[tuple[Loop, Rshell, Official, Floor]]:
    url, token, version = server
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"x": n}) + "\n" for n in range(ROWS)))
    loop = Loop()
    rshell = Rshell(loop, url, token, version, rows)
    floor = loop.run(_floor(url, token, version))
    try:
        loop.run(rshell.line(f"run {rshell.ref} x=0 seconds=0"))  # warm: schema, connection
        yield loop, rshell, Official(url, token, version), floor
    finally:
        loop.run(rshell.executor.aclose())
        loop.run(floor.http.aclose())
        loop.close()


async def _floor(url: str, token: str, version: str) -> Floor:
    return Floor(url, token, version)


def test_16_rows_of_1s_at_concurrency_16_take_within_1_5x_of_the_slowest_row(sides) -> None:
    loop, rshell, _, floor = sides
    ratio_in_rounds(
        f"batch of {ROWS} x {SLEEP_S:.0f} s at concurrency {ROWS} / the slowest row",
        ROUNDS,
        loop.action(rshell.batch),
        loop.action(floor.slowest_row),
        1.5,
        lambda batch, row: f"batch {batch:.2f} s, slowest row {row:.2f} s (medians of {ROUNDS} interleaved rounds)",
    )


def test_16_rows_of_1s_within_1_1x_of_the_official_clients_gather(sides) -> None:
    loop, rshell, official, _ = sides
    ratio_in_rounds(
        f"batch of {ROWS} x {SLEEP_S:.0f} s / official client's asyncio.gather of async_run (no stream URLs)",
        ROUNDS,
        loop.action(rshell.batch),
        loop.action(official.gather),
        1.1,
        lambda batch, gather: f"batch {batch:.2f} s, official {gather:.2f} s (medians of {ROUNDS} interleaved rounds)",
    )
