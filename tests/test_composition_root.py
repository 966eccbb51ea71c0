"""Issue 17 item 3: one composition root. Every entry (`-c`, argv one-shots, `--complete`)
builds the client, the session and the `--local` sandbox the same way, so what a
session runs it also completes, and every command sees the lazily started sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RSHELL = [sys.executable, "-m", "rshell"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A private home, config, data and cache; no token, no base URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLICATE_", "XDG_", "RSHELL_"))}
    for name in ("home", "config", "data", "cache"):
        (tmp_path / name).mkdir()
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        PYTHONPATH=str(ROOT),
    )
    return env


def rshell(*args: str, env: dict[str, str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        RSHELL + list(args), env=env, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120
    )


def test_local_auth_login_as_the_first_statement_reaches_the_sandbox(env: dict[str, str], tmp_path: Path) -> None:
    from rshell.sandbox.catalog import TOKEN

    done = rshell("--local", "auth", "login", "--token-stdin", env=env, cwd=tmp_path, stdin=TOKEN + "\n")
    assert done.returncode == 0, done.stderr
    assert "cannot reach" not in done.stderr
    assert TOKEN not in done.stdout + done.stderr


def test_a_session_alias_completes_as_it_runs(sandbox, env: dict[str, str], tmp_path: Path) -> None:
    env = {**env, "REPLICATE_BASE_URL": sandbox.url, "REPLICATE_API_TOKEN": sandbox.token}
    made = rshell("--session", "s", "-c", "alias e='run rshell/echo'; e text=hi", env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    done = rshell("--session", "s", "--complete", "e te", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert any(line.split("\t")[0] == "text=" for line in done.stdout.splitlines()), done.stdout
