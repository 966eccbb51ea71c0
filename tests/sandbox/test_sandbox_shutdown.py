"""Stopping the sandbox while requests are held open answers them; nothing is cancelled
mid-await, so no traceback reaches the terminal of a `--local` session."""

from __future__ import annotations

import asyncio
import logging
import threading

import httpx
import pytest
from openapi_check import check_response
from sandbox_fakes import make_fakes
from waits import HANG

from rshell.sandbox.events import EventLog


def test_stop_answers_a_held_wait_and_ends_open_streams(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rshell.sandbox.server import start

    holding = threading.Event()  # the server is inside the Prefer: wait window
    waits: list[str] = []  # how each held wait ended: "returned" or "cancelled"
    real_wait = EventLog.wait_done

    async def watched(self: EventLog, timeout: float) -> bool:
        holding.set()
        try:
            done = await real_wait(self, timeout)
        except asyncio.CancelledError:
            waits.append("cancelled")
            raise
        waits.append("returned")
        return done

    monkeypatch.setattr(EventLog, "wait_done", watched)
    predictors, gates = make_fakes()
    handle = start(predictors=predictors)
    headers = {"Authorization": f"Bearer {handle.token}", "Prefer": "wait=60"}
    answers: list[httpx.Response] = []

    def held() -> None:
        answers.append(httpx.post(f"{handle.url}/models/test/blocker/predictions", json={"input": {}}, headers=headers))

    waiter = threading.Thread(target=held)
    with caplog.at_level(logging.ERROR):
        waiter.start()
        assert holding.wait(HANG) and gates["blocker"].arrived()  # held, and the run is still going
        handle.stop()
        waiter.join(HANG)
    gates["blocker"].open()  # let the worker go (stop() already asked it to)
    # stop() released the wait: it returned rather than being cancelled after uvicorn's
    # graceful-shutdown timeout, and the client got an answer rather than a dropped connection
    assert waits == ["returned"]
    assert answers and answers[0].status_code == 202  # still running: answered as such
    check_response(answers[0])
    assert answers[0].json()["status"] == "starting"
    assert not [r for r in caplog.records if "Exception in ASGI application" in r.getMessage()]
