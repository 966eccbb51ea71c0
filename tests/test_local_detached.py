"""Issue 20: the `--local` sandbox outlives the shell that started it while others use it.

Real `python -m rshell --local` processes on a private data directory (the look-ups after
them through `cli.main` in this process, which lets the sandbox go as a process does
when it ends: `test_main_leaves_the_process_as_it_found_it`). The sandbox runs
in a process of its own (rshell/sandbox/detached.py): the first shell (which started
it) leaves while a second shell's run is in flight, and that run still succeeds. The
run is held in flight by its input file, served by a test server that answers only
when told to. The server stops itself once unused, and on `local stop`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_server import HostileServer, Reply
from processes import private_env
from rsh import rshell_main

from rshell.sandbox.local import answers, recorded_url, serving, stop_local

RSHELL = [sys.executable, "-m", "rshell"]
BOUND = 60.0  # seconds: only bounds a hang


def _env(tmp_path: Path, idle: str = "2") -> dict[str, str]:
    return private_env(tmp_path, RSHELL_DATA_DIR=str(tmp_path / "data"), RSHELL_LOCAL_IDLE=idle)


def _until(condition: object, what: str) -> None:
    """Wait for a condition another process brings about; the bound only ends a hang."""
    deadline = time.monotonic() + BOUND
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.02)


@pytest.fixture
def local_root(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "data" / "local"
    yield root
    stop_local(root)  # whatever the test left running


def _png() -> bytes:
    from rshell.sandbox.predictors.png import encode

    return encode(4, 4, [bytes((200, 90, 30)) * 4 for _ in range(4)])


def test_leaving_the_shell_that_started_the_sandbox_fails_no_run_of_another(tmp_path: Path, local_root: Path) -> None:
    env = _env(tmp_path, idle="1")
    go, held = tmp_path / "go", tmp_path / "held"
    script = tmp_path / "first.rsh"
    script.write_text(f"run rshell/echo text=one\n!touch {held}; while [ ! -e {go} ]; do sleep 0.02; done\n")
    with script.open() as stdin:
        first = subprocess.Popen(
            [*RSHELL, "--local"], env=env, cwd=tmp_path, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    release = threading.Event()
    with HostileServer({"GET /fox.png": Reply(200, {"Content-Type": "image/png"}, _png(), pause=release)}) as images:
        _until(held.exists, "the first shell's run")
        second = subprocess.Popen(
            [*RSHELL, "--local", "--json", "run", "rshell/upscale", f"image={images.url[:-3]}/fox.png", "scale=2"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _until(lambda: images.count("GET", "/fox.png") == 1, "the second shell's run reading its input")
            go.touch()  # the first shell, which started the sandbox, leaves mid-run
            _, first_err = first.communicate(timeout=BOUND)
            assert first.returncode == 0, first_err.decode()
            assert answers(recorded_url(local_root) or "")  # still served
        finally:
            release.set()  # the input arrives; the run goes on
            out, err = second.communicate(timeout=BOUND)
    assert second.returncode == 0, err
    result = json.loads(out)
    assert result["status"] == "succeeded" and result["output"].endswith(".png"), result
    shown = rshell_main("--local", "--json", "model", "show", "rshell/upscale", env=env, cwd=tmp_path)
    assert json.loads(shown.stdout)["run_count"] == 1, shown.stderr


def test_the_sandbox_stops_itself_once_unused_and_on_stop(tmp_path: Path, local_root: Path) -> None:
    env = _env(tmp_path, idle="0.5")
    done = rshell_main("--local", "-c", "run rshell/echo text=hi", env=env, cwd=tmp_path)  # in this process,
    assert done.code == 0, done.stderr  # which lets the sandbox go when it ends, as a process does by ending
    _until(lambda: serving(local_root) is None, "the idle sandbox stopping")
    again = rshell_main(  # the next shell starts it again, on the same port, with the same data
        "--local", "--json", "model", "show", "rshell/echo", env={**env, "RSHELL_LOCAL_IDLE": "600"}, cwd=tmp_path
    )
    assert again.code == 0, again.stderr
    assert json.loads(again.stdout)["run_count"] == 1
    url = serving(local_root)
    assert url is not None
    assert stop_local(local_root)
    assert serving(local_root) is None and not answers(url)
