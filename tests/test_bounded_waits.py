"""Every wait is bounded (SPEC 8, issue 9 item 2), against the hostile server on
127.0.0.1 (tests/hostile_server.py): a stream that goes silent falls back to polling, an unknown status is an
error after the response that shows it, a Retry-After beyond the retry budget fails at
once saying when to retry, and a wait before a retry is said on stderr."""

from __future__ import annotations

import asyncio
import io
import time
from email.utils import formatdate
from typing import Any

import api_fixtures as fx
import pytest
from hostile_server import HostileServer, in_turn, reply_json, silent_stream

from rshell.client import api
from rshell.client.api import ReplicateClient
from rshell.executor import Executor
from rshell.rendering.output import Output
from rshell.session.state import Session

TOKEN = "r8_fake-boundedwaitstoken"
PID = fx.PREDICTION_ID
VERSION = fx.VERSION_ID


def prediction(server: HostileServer, status: str, *, stream: bool = True, **overrides: Any) -> dict[str, Any]:
    body = fx.prediction(status, base=server.url, **overrides)
    if stream:
        body["urls"]["stream"] = f"{server.url}/predictions/{PID}/stream"
    else:
        body["urls"].pop("stream")
    return body


class Recorder:
    """An injected retry sleep: records each delay, waits for none."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def run_line(server: HostileServer, line: str, sleep: Recorder | None = None) -> tuple[int, str, Session]:
    """Run one statement through the Executor with a real client; (exit code, stderr, session)."""
    out = Output(io.StringIO(), io.StringIO(), json_mode=False)
    session = Session()

    def client() -> ReplicateClient:
        return ReplicateClient(TOKEN, server.url, sleep=sleep or Recorder())

    async def main() -> int:
        executor = Executor(session, out, client)
        try:
            return await executor.run_text(line)
        finally:
            await executor.aclose()

    code = asyncio.run(main())
    return code, out.stderr.getvalue(), session


@pytest.fixture
def server():
    with HostileServer(token=TOKEN) as running:
        yield running


def run_bounded(server: HostileServer, line: str, within: float = 60.0) -> tuple[int, str, Session]:
    """`run_line`, failed rather than hung if it takes longer than `within` seconds
    (a bound on a hang, not a timing assert)."""
    out = Output(io.StringIO(), io.StringIO(), json_mode=False)
    session = Session()

    async def main() -> int:
        executor = Executor(session, out, lambda: ReplicateClient(TOKEN, server.url, sleep=Recorder()))
        try:
            return await asyncio.wait_for(executor.run_text(line), within)
        finally:
            await executor.aclose()

    return asyncio.run(main()), out.stderr.getvalue(), session


def test_a_quiet_stream_of_a_finished_run_ends_at_the_next_status_check(server, monkeypatch):
    """Issue 19.9: the stream says nothing more, the prediction is `succeeded` on GET:
    a status check while the stream is quiet reports it, with no idle cut to wait for."""
    monkeypatch.setattr(api, "STREAM_IDLE", 3600.0)  # no idle cut could end this wait
    server.route("POST /v1/predictions", reply_json(prediction(server, "starting"), 201))
    server.route(f"GET /v1/predictions/{PID}/stream", silent_stream(server, b"event: logs\nid: 1\ndata: loading\n\n"))
    server.route(f"GET /v1/predictions/{PID}", reply_json(prediction(server, "succeeded", logs="loading\ndone\n")))
    code, err, session = run_bounded(server, f"run {VERSION} prompt=hi")
    assert code == 0, err
    assert session.last["status"] == "succeeded"
    assert err.count("loading") == 1 and "done" in err  # the logs, each line once
    assert "polling instead" not in err
    assert server.count("GET", f"/v1/predictions/{PID}/stream") == 1
    assert server.count("GET", f"/v1/predictions/{PID}") == 1  # one check found it finished


def test_a_quiet_stream_of_a_run_still_starting_is_kept(server, monkeypatch):
    """A model cold-booting says nothing for a while: each check finds it running and
    the stream is kept (not dropped for polling) until a check finds it finished."""
    from rshell.commands import running

    monkeypatch.setattr(running, "QUIET_CHECK", 0.2)
    monkeypatch.setattr(api, "STREAM_IDLE", 3600.0)
    server.route("POST /v1/predictions", reply_json(prediction(server, "starting"), 201))
    server.route(f"GET /v1/predictions/{PID}/stream", silent_stream(server, b"event: logs\nid: 1\ndata: booting\n\n"))
    server.route(
        f"GET /v1/predictions/{PID}",
        in_turn(
            reply_json(prediction(server, "starting", logs="booting\n")),
            reply_json(prediction(server, "processing", logs="booting\n")),
            reply_json(prediction(server, "succeeded", logs="booting\nready\n")),
        ),
    )
    code, err, session = run_bounded(server, f"run {VERSION} prompt=hi")
    assert code == 0, err
    assert session.last["status"] == "succeeded"
    assert err.count("booting") == 1 and "ready" in err
    assert "polling instead" not in err
    assert server.count("GET", f"/v1/predictions/{PID}/stream") == 1
    assert server.count("GET", f"/v1/predictions/{PID}") == 3


def test_a_dead_stream_is_dropped_and_the_prediction_polled(server, sleeps, monkeypatch):
    """Not a byte for the idle limit (not even a keep-alive): the connection is dead."""
    from rshell.commands import running

    monkeypatch.setattr(running, "QUIET_CHECK", 3600.0)  # no status check comes first
    monkeypatch.setattr(api, "STREAM_IDLE", 0.3)
    server.route("POST /v1/predictions", reply_json(prediction(server, "starting"), 201))
    server.route(f"GET /v1/predictions/{PID}/stream", silent_stream(server, b"event: logs\nid: 1\ndata: loading\n\n"))
    server.route(
        f"GET /v1/predictions/{PID}",
        in_turn(
            reply_json(prediction(server, "processing", logs="loading\n")),
            reply_json(prediction(server, "succeeded", logs="loading\ndone\n")),
        ),
    )
    code, err, session = run_line(server, f"run {VERSION} prompt=hi")
    assert code == 0, err
    assert session.last["status"] == "succeeded"
    assert "went silent); polling instead" in err
    assert err.count("loading") == 1 and "done" in err  # the logs, each line once
    assert server.count("GET", f"/v1/predictions/{PID}/stream") == 1  # a silent server is not asked again
    assert server.count("GET", f"/v1/predictions/{PID}") == 2


def test_an_unknown_status_is_reported_after_the_poll_that_shows_it(server, sleeps):
    server.route("POST /v1/predictions", reply_json(prediction(server, "processing", stream=False), 201))
    server.route(f"GET /v1/predictions/{PID}", reply_json(prediction(server, "exploded", stream=False)))
    code, err, _ = run_line(server, f"run {VERSION} prompt=hi")
    assert code == 1
    error = err[err.index("error: ") :].splitlines()
    assert len(error) == 2 and "status rshell does not know: 'exploded'" in error[0], err
    assert server.count("GET", f"/v1/predictions/{PID}") == 1


@pytest.mark.parametrize(
    "retry_after",
    ["999999", formatdate(time.time() + 3 * 365 * 86400, usegmt=True)],
    ids=["seconds", "http-date"],
)
def test_a_retry_after_beyond_the_budget_fails_at_once_saying_when(server, retry_after):
    problem = fx.problem(429, "Request was throttled")
    server.route(f"GET /v1/predictions/{PID}", reply_json(problem, 429, {"Retry-After": retry_after}))
    recorder = Recorder()
    code, err, _ = run_line(server, f"prediction show {PID}", recorder)
    assert code == 1
    assert recorder.delays == []  # no silent wait at all
    assert server.count("GET", f"/v1/predictions/{PID}") == 1
    assert "Request was throttled; the API asks to wait" in err
    assert "try again after 20" in err and "UTC" in err  # the date and time to come back
    assert "retrying" not in err


def test_a_wait_before_a_retry_is_said_on_stderr(server):
    server.route(
        f"GET /v1/predictions/{PID}",
        in_turn(
            reply_json(fx.problem(429, "Request was throttled"), 429, {"Retry-After": "2"}),
            reply_json(fx.problem(503, "busy"), 503),
            reply_json(prediction(server, "succeeded")),
        ),
    )
    recorder = Recorder()
    code, err, _ = run_line(server, f"prediction show {PID}", recorder)
    assert code == 0, err
    assert recorder.delays[0] == 2.0 and len(recorder.delays) == 2
    lines = [line for line in err.splitlines() if "retrying in" in line]
    assert lines[0] == "API error 429: Request was throttled; retrying in 2s (1 of 4)"
    assert lines[1].startswith("API error 503: busy; retrying in ") and lines[1].endswith("(2 of 4)")


def test_waits_add_up_to_the_budget_then_fail_saying_when(server):
    """Four Retry-After: 20 in a row: three waits fit in 60 s, the fourth would not."""
    problem = fx.problem(429, "Request was throttled")
    server.route(f"GET /v1/predictions/{PID}", reply_json(problem, 429, {"Retry-After": "20"}))
    recorder = Recorder()
    code, err, _ = run_line(server, f"prediction show {PID}", recorder)
    assert code == 1
    assert recorder.delays == [20.0, 20.0, 20.0]
    assert "try again after" in err


def test_a_throttled_body_without_retry_after_says_how_long(server):
    throttled = fx.problem(429, "Request was throttled. Expected available in 3 seconds.")
    server.route(
        f"GET /v1/predictions/{PID}", in_turn(reply_json(throttled, 429), reply_json(prediction(server, "succeeded")))
    )
    recorder = Recorder()
    code, err, _ = run_line(server, f"prediction show {PID}", recorder)
    assert code == 0, err
    assert recorder.delays == [3.0]


def test_a_quiet_stream_nobody_watches_is_checked_too(server, monkeypatch):
    """`batch` rows follow with a SilentWatch: the same checks, nothing drawn."""
    from rshell.client.models import Prediction, parse
    from rshell.commands import running

    monkeypatch.setattr(running, "QUIET_CHECK", 0.2)
    server.route(f"GET /v1/predictions/{PID}/stream", silent_stream(server))
    server.route(
        f"GET /v1/predictions/{PID}",
        in_turn(
            reply_json(prediction(server, "processing")),
            reply_json(prediction(server, "succeeded")),
        ),
    )

    async def follow() -> Prediction:
        async with ReplicateClient(TOKEN, server.url) as client:
            started = parse(Prediction, prediction(server, "starting"))
            final, _ = await asyncio.wait_for(running.follow_prediction(client, started, running.SilentWatch()), 60)
            return final

    assert asyncio.run(follow()).status == "succeeded"
    assert server.count("GET", f"/v1/predictions/{PID}") == 2
