"""Stopping the sandbox while requests are held open answers them; nothing is cancelled
mid-await, so no traceback reaches the terminal of a `--local` session."""

from __future__ import annotations

import logging
import threading
import time

import httpx
import pytest
from openapi_check import check_response


def test_stop_answers_a_held_wait_and_ends_open_streams(caplog: pytest.LogCaptureFixture) -> None:
    from rshell.sandbox.server import start

    handle = start()
    headers = {"Authorization": f"Bearer {handle.token}", "Prefer": "wait=60"}
    answers: list[httpx.Response] = []

    def held() -> None:
        body = {"input": {"prompt": "the", "max_tokens": 512}}
        answers.append(
            httpx.post(f"{handle.url}/models/rshell/tinylm/predictions", json=body, headers=headers, timeout=30)
        )

    waiter = threading.Thread(target=held)
    with caplog.at_level(logging.ERROR):
        waiter.start()
        time.sleep(0.5)  # the request is now held by Prefer: wait
        began = time.monotonic()
        handle.stop()
        waiter.join(10)
        stopped_in = time.monotonic() - began
    assert answers and answers[0].status_code == 202  # still running: answered as such
    check_response(answers[0])
    assert answers[0].json()["status"] == "starting"
    assert stopped_in < 1.0  # not the graceful-shutdown timeout followed by a cancel
    assert not [r for r in caplog.records if "Exception in ASGI application" in r.getMessage()]
