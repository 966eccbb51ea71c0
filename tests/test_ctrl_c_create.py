"""Ctrl-C inside the sync wait cancels the prediction on the server (issue 19 item 1).

`run` creates with `Prefer: wait`, so until the create answers rshell has no id. A
real `python -m rshell` process, a real SIGINT while the sandbox holds the create, and
the sandbox asked afterwards: no prediction left running, exit 130, the id named.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hostile_server import rshell_env
from openapi_check import spec_observer
from sleeper_model import Sleeper

MODEL = "bench/sleeper"
RUNNING = ("starting", "processing")


@pytest.fixture
def slow() -> Iterator[tuple[Any, Sleeper]]:
    """A sandbox whose one model sleeps far longer than any test waits (it stops when canceled)."""
    from rshell.sandbox.server import start

    mismatches: list[str] = []
    model = Sleeper(300.0, MODEL)
    handle = start(predictors={MODEL: model}, observe=spec_observer(mismatches))
    try:
        yield handle, model
    finally:
        handle.stop()
    assert not mismatches, mismatches[:3]


def listed(handle: Any) -> list[dict[str, Any]]:
    reply = httpx.get(f"{handle.url}/predictions", headers={"Authorization": f"Bearer {handle.token}"})
    return reply.json()["results"]


def wait_until(condition: Callable[[], bool], what: str, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    """Bounded wait on a condition (the process must still be running)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"rshell ended before {what}: {proc.communicate()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def interrupted_run(handle: Any, model: Sleeper, command: list[str], tmp_path: Path, **popen: Any) -> tuple[int, str]:
    """Start `command`, SIGINT it once the model is running inside the held create,
    and return its exit code and stderr."""
    proc = subprocess.Popen(
        command,
        env=rshell_env(handle, tmp_path),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )
    try:
        wait_until(lambda: model.started == 1, "the model to start", proc)
        assert [p["status"] for p in listed(handle)] == ["processing"]  # the create is still held
        if popen.get("start_new_session"):
            os.killpg(proc.pid, signal.SIGINT)  # the whole pipeline gets it, as from a terminal
        else:
            proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, err


def assert_canceled(handle: Any, err: str) -> None:
    (prediction,) = listed(handle)
    deadline = time.monotonic() + 30
    while prediction["status"] in RUNNING and time.monotonic() < deadline:
        time.sleep(0.05)
        (prediction,) = listed(handle)
    assert prediction["status"] == "canceled", (prediction["status"], err)
    assert f"canceled prediction {prediction['id']}" in err
    assert "may still be running" not in err


def test_ctrl_c_in_the_sync_wait_cancels_the_prediction(slow, tmp_path: Path) -> None:
    handle, model = slow
    code, err = interrupted_run(
        handle, model, [sys.executable, "-m", "rshell", "run", MODEL, "x=1", "--no-stream"], tmp_path
    )
    assert code == 130, err
    assert_canceled(handle, err)


def test_ctrl_c_cancels_from_the_first_process_of_a_pipe(slow, tmp_path: Path) -> None:
    """As a terminal sends it: SIGINT to the whole pipeline's process group."""
    handle, model = slow
    line = f"{sys.executable} -m rshell run {MODEL} x=1 2>rshell.err | cat"
    code, _ = interrupted_run(handle, model, ["sh", "-c", line], tmp_path, start_new_session=True)
    assert code != 0  # cat was interrupted too
    assert_canceled(handle, (tmp_path / "rshell.err").read_text())


def test_ctrl_c_in_the_sync_wait_of_the_shell_cancels_and_gives_the_prompt_back(slow, dirs) -> None:
    """The interactive shell in a real pty: Ctrl-C inside the held create, the
    prediction canceled on the server, the prompt back with the canceled run in `_`."""
    from test_repl_pty import shells

    handle, model = slow
    with shells(dirs, handle.url, handle.token) as start:
        term = start()
        term.send(f"run {MODEL} x=1 --no-stream\r")
        term.wait_until(lambda: model.started == 1, "the model to start", 60)
        assert [p["status"] for p in listed(handle)] == ["processing"]  # the create is still held
        term.send("\x03")
        term.wait_prompt(60)
        (prediction,) = listed(handle)
        assert prediction["status"] == "canceled"
        assert f"canceled prediction {prediction['id']}" in term.text()
        term.clear()
        assert "canceled" in term.run("show _.status")
        term.send("\x04")
        assert term.wait_exit() == 0


def test_delivery_tells_a_sent_create_from_one_never_sent(slow) -> None:
    """httpcore's trace, as `cancel_unconfirmed` reads it: a create the server got
    may have landed; one whose connection was never made cannot have."""
    import asyncio
    import socket

    from rshell.client.api import Delivery, ReplicateClient
    from rshell.errors import NetworkError

    handle, _ = slow
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"

    version = handle.sandbox.latest_version(MODEL)["id"]

    async def create(base_url: str, delivery: Delivery) -> None:
        async with ReplicateClient(handle.token, base_url, max_retries=0) as client:
            await client.predictions_create({"x": 1, "seconds": 0}, version=version, delivery=delivery)

    sent, never = Delivery(), Delivery()
    asyncio.run(create(handle.url, sent))
    with pytest.raises(NetworkError):
        asyncio.run(create(closed, never))
    assert sent.traced and sent.sent and sent.may_have_landed
    assert never.traced and not never.sent and not never.may_have_landed
