"""Issue 18 item 4: a full disk is said in one or two lines, never a traceback.

rshell runs for real (`python -m rshell`) against the live sandbox with its data,
config and working folders on a small tmpfs filled to the last byte: session saves,
`vars`, `auth login --token-stdin` and `run … --save` each name the file and the
cause, exit 1, keep the earlier good file, and say what the server already did.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from needs import unavailable
from rsh import Outcome, rshell_main

ROOT = Path(__file__).resolve().parents[1]


class SmallDisk:
    """A 4 MiB tmpfs mounted for one test; `fill()` takes every free byte."""

    def __init__(self, where: Path) -> None:
        self.root = where
        self.filler = where / "filler"

    def fill(self) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (65536, 4096, 512, 1):  # to the last byte
                while True:
                    try:
                        os.write(fd, b"\0" * size)
                    except OSError as error:
                        assert error.errno == errno.ENOSPC
                        break
        finally:
            os.close(fd)

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[SmallDisk]:
    where = tmp_path / "small"
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        unavailable(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield SmallDisk(where)
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _env(sandbox: Any, disk: SmallDisk) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLICATE_", "XDG_", "RSHELL_"))}
    for name in ("home", "config", "data", "cache", "work"):
        (disk.root / name).mkdir(exist_ok=True)
    env.update(
        REPLICATE_BASE_URL=sandbox.url,
        REPLICATE_API_TOKEN=sandbox.token,
        HOME=str(disk.root / "home"),
        XDG_CONFIG_HOME=str(disk.root / "config"),
        XDG_DATA_HOME=str(disk.root / "data"),
        XDG_CACHE_HOME=str(disk.root / "cache"),
        RSHELL_DATA_DIR=str(disk.root / "data"),
        PYTHONPATH=str(ROOT),
    )
    return env


def _rshell(env: dict[str, str], cwd: Path, *args: str, stdin: str = "") -> Outcome:
    """`rshell ARGS` in `cwd` with the environment `env`, through `cli.main` in this process."""
    return rshell_main(*args, stdin=stdin, env=env, cwd=cwd)


def _said_plainly(done: Outcome | subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    assert "Errno" not in done.stderr, done.stderr
    said = done.stderr.split("error: ", 1)[1]  # after the run's own progress lines
    assert 1 <= len(said.strip().splitlines()) <= 2, done.stderr


def test_a_session_save_on_a_full_disk(sandbox: Any, disk: SmallDisk) -> None:
    env, work = _env(sandbox, disk), disk.root / "work"
    first = _rshell(env, work, "--session", "s", "-c", "x = run rshell/echo text=kept")
    assert first.code == 0, first.stderr
    disk.fill()
    done = _rshell(env, work, "--session", "s", "--json", "-c", "y = run rshell/echo text=" + "z" * 20000)
    assert done.code == 1
    _said_plainly(done)
    assert "cannot save session 's': disk full" in done.stderr and "sessions" in done.stderr
    created = [p for p in _predictions(sandbox) if "z" * 100 in str(p["input"])]
    assert len(created) == 1 and created[0]["id"] in done.stderr  # what the server holds, by id
    listed = _rshell(env, work, "--session", "s", "--json", "-c", "vars")
    assert listed.code == 0, listed.stderr  # nothing to write: nothing fails
    _said_plainly_or_silent(listed)
    disk.free()
    again = _rshell(env, work, "--session", "s", "--json", "-c", "vars")
    assert again.code == 0 and "x" in again.stdout  # the earlier good session intact


def _said_plainly_or_silent(done: Outcome) -> None:
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr


def test_auth_login_on_a_full_disk(sandbox: Any, disk: SmallDisk) -> None:
    env, work = _env(sandbox, disk), disk.root / "work"
    disk.fill()
    done = _rshell(env, work, "auth", "login", "--token-stdin", stdin=sandbox.token + "\n")
    assert done.code == 1
    _said_plainly(done)
    assert "disk full" in done.stderr and "hosts" in done.stderr
    assert sandbox.token not in done.stderr


def test_run_save_on_a_full_disk(sandbox: Any, disk: SmallDisk) -> None:
    env, work = _env(sandbox, disk), disk.root / "work"
    disk.fill()
    done = _rshell(
        env, work, "--debug", "run", "rshell/echo", "text=" + "w" * 20000, "--save", "--output-directory", "out"
    )
    assert done.code == 1
    _said_plainly(done)
    assert "disk full" in done.stderr and "output.txt" in done.stderr
    created = [p for p in _predictions(sandbox) if "w" * 100 in str(p["input"])]
    assert len(created) == 1 and created[0]["id"] in done.stderr
    assert not (work / "out" / "output.txt").exists()  # no empty file under the final name


def _predictions(sandbox: Any) -> list[dict[str, Any]]:
    import httpx

    reply = httpx.get(f"{sandbox.url}/predictions", headers={"Authorization": f"Bearer {sandbox.token}"}, timeout=30)
    return reply.json()["results"]


def test_a_read_only_disk(sandbox: Any, disk: SmallDisk) -> None:
    env, work = _env(sandbox, disk), disk.root / "work"
    first = _rshell(env, work, "--session", "s", "-c", "x = run rshell/echo text=kept")
    assert first.code == 0, first.stderr
    remounted = subprocess.run(["mount", "-o", "remount,ro", str(disk.root)], capture_output=True, text=True)
    assert remounted.returncode == 0, remounted.stderr
    done = _rshell(env, work, "--session", "s", "--json", "-c", "y = run rshell/echo text=more")
    assert done.code == 1
    _said_plainly(done)
    assert "cannot save session 's': read-only file system" in done.stderr
    listed = _rshell(env, work, "--session", "s", "--json", "-c", "vars")
    assert listed.code == 0 and "x" in listed.stdout, listed.stderr  # still readable
    login = _rshell(env, work, "auth", "login", "--token-stdin", stdin=sandbox.token + "\n")
    assert login.code == 1 and "read-only file system" in login.stderr
    _said_plainly(login)


def test_a_folder_where_the_database_goes(sandbox: Any, tmp_path: Path) -> None:
    disk = SmallDisk(tmp_path)  # an ordinary disk: only the folder in the way matters
    env, work = _env(sandbox, disk), tmp_path / "work"
    from rshell.client.urls import scope_of

    (tmp_path / "data" / "sessions" / scope_of(sandbox.url) / "sessions.db").mkdir(parents=True)
    done = _rshell(env, work, "--session", "s", "-c", "y = run rshell/echo text=x")
    assert done.code == 1
    _said_plainly(done)
    assert "sessions.db is a folder" in done.stderr


NOBODY = 65534


@pytest.fixture
def open_place() -> Iterator[Path]:
    """A folder anyone can reach (pytest's own are private to root), removed after."""
    import shutil
    import tempfile

    where = Path(tempfile.mkdtemp(prefix="rshell-denied-"))
    where.chmod(0o755)
    try:
        yield where
    finally:
        shutil.rmtree(where, ignore_errors=True)


def test_permission_denied(sandbox: Any, open_place: Path) -> None:
    """The session's database belongs to another user: readable, not writable."""
    if os.geteuid() != 0:
        unavailable("running rshell as another user needs root")
    disk = SmallDisk(open_place)
    env, work = _env(sandbox, disk), open_place / "work"
    first = _rshell(env, work, "--session", "s", "-c", "x = run rshell/echo text=kept")  # as root
    assert first.code == 0, first.stderr
    for name in ("home", "config", "cache", "work"):
        os.chown(open_place / name, NOBODY, NOBODY)
    (database,) = (open_place / "data" / "sessions").glob("*/sessions.db")
    database.parent.chmod(0o755)
    database.chmod(0o644)

    def as_nobody(*args: str) -> subprocess.CompletedProcess[str]:
        user = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        return subprocess.run(
            [*user, sys.executable, "-m", "rshell", "--session", "s", "--json", "-c", *args],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
            timeout=120,
        )

    done = as_nobody("y = run rshell/echo text=more")
    assert done.returncode == 1
    _said_plainly(done)
    assert "cannot save session 's': permission denied" in done.stderr
    created = [p for p in _predictions(sandbox) if p["input"].get("text") == "more"]
    assert len(created) == 1 and created[0]["id"] in done.stderr
    listed = as_nobody("vars")
    assert listed.returncode == 0 and "x" in listed.stdout, listed.stderr  # still readable
    database.parent.chmod(0o700)  # private to its owner: not even readable now
    hidden = as_nobody("vars")
    assert hidden.returncode == 1
    _said_plainly(hidden)
    assert "cannot read session 's': permission denied" in hidden.stderr
