"""Issue 18 item 2: a file rshell saves appears under its final name only when complete.

A real `python -m rshell run … --save` downloads a large output from
tests/hostile_server.py, which sends part of the body and then holds the rest; the
process is killed with SIGKILL while the file is half written. No file may then
stand under the final name (a 0-byte `out.png` looks saved), and the next run saves
the whole file under that name, whatever the killed run left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from hostile_server import HostileServer, Reply, model, prediction, reply_json, rshell_env, run_rshell

KILLS = 5
HALF = 256 * 1024
BODY = bytes(range(256)) * (4 * 1024)  # 1 MiB, recognisable


def _held_body(sent: threading.Event, go_on: threading.Event) -> Iterator[bytes]:
    yield BODY[:HALF]
    sent.set()
    go_on.wait(60)
    yield BODY[HALF:]


def _wait_for(check: object, what: str, timeout: float = 60, what_now: object = str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}: {what_now()}")


def test_a_killed_save_leaves_no_file_under_the_final_name(hostile: HostileServer, tmp_path: Path) -> None:
    hostile.route("GET /v1/models/hostile/model", reply_json(model()))
    output = [f"{hostile.root}/delivery/out.png"]
    hostile.route("POST /v1/models/hostile/model/predictions", reply_json(prediction("p1", output=output), 201))
    work = tmp_path / "work"
    work.mkdir()
    folder = work / "p1"
    go_on = threading.Event()
    left_a_final_name = 0
    for _ in range(KILLS):
        sent = threading.Event()
        hostile.route(
            "GET /delivery/out.png",
            Reply(200, {"Content-Type": "image/png"}, _held_body(sent, go_on), length=len(BODY)),
        )
        child = subprocess.Popen(
            [sys.executable, "-m", "rshell", "run", "hostile/model", "prompt=x", "--save"],
            env=rshell_env(hostile, tmp_path / "h"),
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(sent.is_set, "half the body sent")
            # most of the half that was sent is on disk (the rest may sit in a buffer): kill mid-file
            _wait_for(
                lambda: folder.is_dir() and sum(p.stat().st_size for p in folder.iterdir()) >= HALF // 2,
                "bytes",
                what_now=lambda: [(p.name, p.stat().st_size) for p in folder.iterdir()] if folder.is_dir() else None,
            )
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.wait(timeout=60)
        if any(not p.name.startswith(".") for p in folder.iterdir()):
            left_a_final_name += 1
    assert left_a_final_name == 0, f"{left_a_final_name} of {KILLS} kills left a file under a final name"

    go_on.set()
    hostile.route("GET /delivery/out.png", Reply(200, {"Content-Type": "image/png"}, BODY))
    done = run_rshell(hostile, "run", "hostile/model", "prompt=x", "--save", cwd=work, home=tmp_path / "h")
    assert done.code == 0, done.stderr
    # the final name (not out-1.png beside a stale one), and the killed runs' temps swept
    assert sorted(p.name for p in folder.iterdir()) == ["out.png"]
    assert (folder / "out.png").read_bytes() == BODY
