"""`rshell serve` failures read like every other error, and a closed stdout is not an
internal error (issue 11 item 5), loopback only. `serve`'s failures go through the
composition root in this process (`rsh.rshell_main`); a closed pipe needs a real one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from rsh import Outcome, rshell_main

ROOT = Path(__file__).resolve().parents[1]
RSHELL = [sys.executable, "-m", "rshell"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLICATE_", "XDG_"))}
    env.update(PYTHONPATH=str(ROOT), HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "data"))
    return env


def serve(tmp_path: Path, *args: str) -> Outcome:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HOME", str(tmp_path / "home"))
        env.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
        return rshell_main("serve", *args)


def test_serve_on_a_port_in_use_says_so(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = serve(tmp_path, "--port", str(port), "--data", str(tmp_path / "state"))
    assert done.code == 1
    assert done.stderr.splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: the port is in use",
        "choose another with --port N (0 picks a free one)",
    ]


def test_serve_with_a_data_directory_that_cannot_be_made(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    done = serve(tmp_path, "--port", "0", "--data", str(blocker / "state"))
    assert done.code == 2
    assert done.stderr.startswith(f"error: cannot create the data directory {blocker / 'state'}: ")
    assert done.stderr.endswith("\nchoose another with --data DIR\n") and done.stderr.count("\n") == 2


def test_a_reader_that_leaves_early_ends_rshell_quietly(tmp_path: Path) -> None:
    """Far more output than a pipe holds, and the reader closes after one line."""
    proc = subprocess.Popen(
        [*RSHELL, "-c", "; ".join(["help"] * 200)],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"Commands")
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141
    assert err == b""


def test_the_issues_line_through_head(tmp_path: Path) -> None:
    line = f"{sys.executable} -m rshell --local -c 'model list; model list' | head -1; echo rc=${{PIPESTATUS[0]}} >&2"
    done = subprocess.run(["bash", "-c", line], env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() in ("{", "[")
    assert done.stderr.strip() in ("rc=0", "rc=141"), done.stderr
