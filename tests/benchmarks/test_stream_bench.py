"""Budget (SPEC 10): the first streamed token is printed within 20 ms of its arrival.

rshell's real path against a live in-process sandbox: the Executor runs
`stream owner/name:version x=1` with a real ReplicateClient. The sandbox runs in this
process, so the model notes time.perf_counter() just before it yields each token and
an Output subclass notes when rshell has written and flushed it. That delay covers the
server's SSE framing, the loopback hop and rshell's SSE parsing as well as the
printing, so it is stricter than the budget (which starts at the token's arrival).

The model yields its first token only once the client's event-stream request has been
answered, so the delay never includes connecting: a token produced before then would
only be replayed on connect, and the benchmark would measure the connection instead.

Since the delay includes the loopback hop, its baseline is one round trip (the
median authenticated GET on the same client, measured between the runs, so load
slows both alike) plus the 20 ms; a miss is measured once more before it fails.
"""

from __future__ import annotations

import asyncio
import io
import statistics
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from budgets import Figure, within_budget

from rshell.client.api import ReplicateClient
from rshell.executor import Executor
from rshell.rendering.output import Output
from rshell.sandbox.predictors.base import PredictionError, RunContext
from rshell.session.state import Session

pytestmark = pytest.mark.benchmark

MODEL = "bench/streamer"
RUNS = 9
PINGS = 3
BUDGET_S = 0.020
SPACED = ["Once", " upon", " a time\n", "there"]  # tokens a few ms apart, like a model's
BURST = [f" w{i}" for i in range(20)]  # then tokens back to back: order must survive
TOKENS = SPACED + BURST
GAP_S = 0.003
CONNECT_TIMEOUT_S = 10.0


class Streamer:
    """A Cog-shaped text-iterator model that stamps each token just before yielding it."""

    name = MODEL
    description = "streams a fixed sentence"
    hardware = "cpu"
    trainable = False

    def __init__(self) -> None:
        self.connected = threading.Event()  # set when the client's stream is open
        self.yielded_at: list[float] = []

    def openapi_schema(self) -> dict[str, Any]:
        inputs = {
            "type": "object",
            "title": "Input",
            "required": ["x"],
            "properties": {"x": {"type": "integer", "title": "X", "x-order": 0}},
        }
        output = {
            "type": "array",
            "items": {"type": "string"},
            "x-cog-array-type": "iterator",
            "x-cog-array-display": "concatenate",
        }
        return {
            "openapi": "3.0.2",
            "info": {"title": "Cog", "version": "0.1.0"},
            "paths": {},
            "components": {"schemas": {"Input": inputs, "Output": output}},
        }

    def predict(self, inputs: dict[str, Any], run: RunContext, weights: dict[str, Any] | None = None) -> Iterator[str]:
        if not self.connected.wait(CONNECT_TIMEOUT_S):
            raise PredictionError("the client never opened the stream")
        for index, token in enumerate(TOKENS):
            self.yielded_at.append(time.perf_counter())
            yield token
            if index < len(SPACED):
                time.sleep(GAP_S)


class StreamOpened(httpx.AsyncHTTPTransport):
    """Tells the model when an event-stream request has its response headers."""

    def __init__(self, opened: threading.Event) -> None:
        super().__init__()
        self.opened = opened

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.headers.get("accept") == "text/event-stream":
            self.opened.set()
        return response


class StampedOutput(Output):
    """An Output that notes when each token has been written."""

    def __init__(self) -> None:
        super().__init__(io.StringIO(), io.StringIO(), json_mode=False)
        self.printed: list[tuple[float, str]] = []

    def token(self, text: str) -> None:
        super().token(text)
        self.printed.append((time.perf_counter(), text))


@pytest.fixture
def streamer() -> Iterator[tuple[Any, Streamer]]:
    from rshell.sandbox.server import start

    model = Streamer()
    handle = start(predictors={MODEL: model})
    try:
        yield handle, model
    finally:
        model.connected.set()  # a model still waiting finishes, so stop() is quick
        handle.stop()


async def _runs(handle: Any, model: Streamer) -> tuple[list[float], list[list[str]], StampedOutput, list[float]]:
    """Per run: the first token's delay and the tokens as printed; the round trips."""
    version = handle.sandbox.latest_version(MODEL)["id"]
    out = StampedOutput()
    executor = Executor(
        Session(), out, lambda: ReplicateClient(handle.token, handle.url, transport=StreamOpened(model.connected))
    )
    delays: list[float] = []
    printed: list[list[str]] = []
    pings: list[float] = []
    try:
        for run in range(RUNS + 1):  # the first run is the warm-up (it fetches the schema)
            if run:
                client = await executor.client()
                for _ in range(PINGS):
                    start = time.perf_counter()
                    await client.hardware_list()
                    pings.append(time.perf_counter() - start)
            model.connected.clear()
            model.yielded_at.clear()
            out.printed.clear()
            code = await executor.run_text(f"stream {MODEL}:{version} x=1")
            assert code == 0, out.stderr.getvalue()
            delays.append(out.printed[0][0] - model.yielded_at[0])
            printed.append([text for _, text in out.printed])
    finally:
        await executor.aclose()
    return delays[1:], printed, out, pings


def test_first_streamed_token_is_printed_within_20ms(streamer: tuple[Any, Streamer]) -> None:
    def measure() -> Figure:
        delays, printed, out, pings = asyncio.run(_runs(*streamer))
        assert all(tokens == TOKENS for tokens in printed), printed  # each token once, in order
        assert out.stdout.getvalue() == ("".join(TOKENS) + "\n") * (RUNS + 1)
        delay, round_trip = statistics.median(delays), statistics.median(pings)
        report = (
            f"median first-token delay {delay * 1000:.2f} ms, round trip {round_trip * 1000:.2f} ms; "
            f"runs: {[round(d * 1000, 2) for d in delays]}"
        )
        name = "first streamed token: yield-to-print delay / (round trip + 20 ms)"
        return Figure(name, delay, round_trip + BUDGET_S, 1.0, report)

    within_budget(measure)
