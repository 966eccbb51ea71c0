"""`rshell serve` as a real process (issue 9 item 10): `kill -9` mid-run loses nothing
that was acknowledged and leaves the database whole; a read-only data directory is a
one-line error, not a traceback."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADERS = {"Authorization": "Bearer rshell-sandbox"}
LISTENING = re.compile(r"sandbox listening on (http://127\.0\.0\.1:\d+/v1)")


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLICATE_", "XDG_"))}
    env.update(PYTHONPATH=str(ROOT), HOME=str(home), XDG_DATA_HOME=str(home / "data"), PYTHONDONTWRITEBYTECODE="1")
    return env


def _serve(data: Path, home: Path, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "rshell", "serve", "--port", "0", "--data", str(data)],
        env=_env(home),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


@contextlib.contextmanager
def _server(data: Path, home: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = _serve(data, home)
    try:
        line = proc.stderr.readline().strip() if proc.stderr else ""
        match = LISTENING.fullmatch(line)
        assert match, line  # the socket is bound before this line is printed
        yield proc, match.group(1)
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=30)


def _integrity(data: Path) -> str:
    with contextlib.closing(sqlite3.connect(data / "sandbox.db")) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def _create(client: httpx.Client, model: str, inputs: dict[str, Any], **headers: str) -> httpx.Response:
    return client.post(f"/models/{model}/predictions", json={"input": inputs}, headers=headers)


def _first_token(client: httpx.Client, prediction_id: str) -> None:
    """Wait (on the run's own event stream) until it has sent an output event."""
    with client.stream("GET", f"/predictions/{prediction_id}/stream", timeout=60) as stream:
        for line in stream.iter_lines():
            if line == "event: output":
                return
    raise AssertionError("the stream ended without output")


def test_kill_9_mid_run_loses_nothing_acknowledged(tmp_path):
    data, home = tmp_path / "data", tmp_path / "home"
    acknowledged: list[str] = []
    with _server(data, home) as (proc, url), httpx.Client(base_url=url, headers=HEADERS, timeout=30) as client:
        done = [_create(client, "rshell/echo", {"text": f"d{n}"}, Prefer="wait").json() for n in range(3)]
        assert all(p["status"] == "succeeded" for p in done)
        long = [_create(client, "rshell/tinylm", {"prompt": "the", "max_tokens": 512}) for _ in range(6)]
        assert all(r.status_code == 201 for r in long)
        acknowledged += [p["id"] for p in done] + [r.json()["id"] for r in long]
        stop, hammering = threading.Event(), threading.Event()

        def hammer() -> None:
            """Creates until the server dies; keeps the id of every 201 it got."""
            with httpx.Client(base_url=url, headers=HEADERS, timeout=30) as own:
                while not stop.is_set():
                    try:
                        response = _create(own, "rshell/echo", {"text": "h"})
                    except httpx.HTTPError:
                        return
                    if response.status_code == 201:
                        acknowledged.append(response.json()["id"])
                        if len(acknowledged) > 30:
                            hammering.set()

        threads = [threading.Thread(target=hammer) for _ in range(3)]
        for thread in threads:
            thread.start()
        assert hammering.wait(60)
        _first_token(client, long[0].json()["id"])  # the long runs are streaming now
        proc.send_signal(signal.SIGKILL)  # while creates are being acknowledged
        proc.wait(timeout=30)
        stop.set()
        for thread in threads:
            thread.join(60)
    assert _integrity(data) == "ok"

    with _server(data, home) as (proc, url), httpx.Client(base_url=url, headers=HEADERS, timeout=30) as client:
        statuses = {}
        for prediction_id in acknowledged:
            response = client.get(f"/predictions/{prediction_id}")
            assert response.status_code == 200, f"acknowledged {prediction_id} is lost"
            statuses[prediction_id] = response.json()
        assert all(statuses[p["id"]]["output"] == p["output"] for p in done)
        assert {statuses[r.json()["id"]]["status"] for r in long} == {"failed"}
        assert all("restarted" in statuses[r.json()["id"]]["error"] for r in long)
        assert {s["status"] for s in statuses.values()} <= {"succeeded", "failed"}  # none left in flight
        listed, page = [], client.get("/predictions").json()
        while True:
            listed += [p["id"] for p in page["results"]]
            if not page["next"]:
                break
            page = client.get(page["next"]).json()
        assert len(listed) == len(set(listed)) and set(acknowledged) <= set(listed)
    assert _integrity(data) == "ok"


def _without_privileges() -> None:
    """In the child, before exec: drop every capability, so that root too is bound by
    file permissions (CAP_DAC_OVERRIDE lets root write anywhere). A no-op otherwise."""
    if os.geteuid() != 0:
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    setpcap, capbset_drop = 8, 24
    for cap in [c for c in range(64) if c != setpcap] + [setpcap]:  # the right to drop goes last
        libc.prctl(capbset_drop, cap, 0, 0, 0)  # EINVAL past the last capability: nothing to drop


@pytest.mark.parametrize("what", ["directory", "database"])
def test_a_read_only_data_directory_is_a_one_line_error(tmp_path, what):
    from rshell.sandbox.store import Store

    data, home = tmp_path / "data", tmp_path / "home"
    Store(data).close()  # a data directory from an earlier run
    for path in [data, *data.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    if what == "database":  # the directory may be written, the database may not
        data.chmod(0o755)
    try:
        proc = _serve(data, home, preexec_fn=_without_privileges)
        _, stderr = proc.communicate(timeout=60)
    finally:
        for path in [data, *data.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert proc.returncode == 2, stderr
    lines = stderr.splitlines()
    assert len(lines) == 2 and lines[1] == "choose another with --data DIR", stderr
    expected = "cannot write to the data directory" if what == "directory" else "cannot use the sandbox database"
    assert lines[0].startswith(f"error: {expected} {data}"), lines[0]
