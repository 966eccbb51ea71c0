"""Issue 18 item 1: any number of rshell processes share a session, nothing lost.

Real `python -m rshell` processes against the live sandbox, started at the same time
on one session; then what the session holds, read back the way a user would (through
the composition root in this process: another process than theirs).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rsh import rshell_main
from test_repl_pty import Terminal, shells

from rshell.session import store

ROOT = Path(__file__).resolve().parents[1]
PAIRS = 20


def _env(sandbox: Any, dirs: dict[str, Path]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLICATE_", "XDG_", "RSHELL_"))}
    env.update(
        REPLICATE_BASE_URL=sandbox.url,
        REPLICATE_API_TOKEN=sandbox.token,
        HOME=str(dirs["home"]),
        XDG_CONFIG_HOME=str(dirs["config"]),
        XDG_DATA_HOME=str(dirs["data"]),
        XDG_CACHE_HOME=str(dirs["cache"]),
        RSHELL_DATA_DIR=str(dirs["data"]),
        PYTHONPATH=str(ROOT),
    )
    return env


def _start(env: dict[str, str], cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "rshell", *args],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    _out, err = process.communicate(timeout=120)
    return process.returncode, err


def _names(env: dict[str, str], cwd: Path, session: str) -> set[str]:
    done = rshell_main("--session", session, "--json", "-c", "vars", env=env, cwd=cwd)
    assert done.code == 0, done.stderr
    return set(json.loads(done.stdout))


def test_concurrent_one_shots_keep_both_bindings(sandbox: Any, dirs: dict[str, Path]) -> None:
    env = _env(sandbox, dirs)
    kept = 0
    for pair in range(PAIRS):
        session = f"s{pair}"
        first = _start(env, dirs["work"], "--session", session, "-c", "x1 = run rshell/echo text=a")
        second = _start(env, dirs["work"], "--session", session, "-c", "x2 = run rshell/echo text=b")
        for code, err in (_finish(first), _finish(second)):
            assert code == 0, err
            assert "Traceback" not in err
        if {"x1", "x2"} <= _names(env, dirs["work"], session):
            kept += 1
    assert kept == PAIRS, f"{kept} of {PAIRS} pairs kept both bindings"


def test_an_unset_elsewhere_is_seen_and_other_names_are_untouched(sandbox: Any, dirs: dict[str, Path]) -> None:
    env = _env(sandbox, dirs)
    one = rshell_main(
        "--session", "u", "-c", "a = run rshell/echo text=a; alias e='run rshell/echo'", env=env, cwd=dirs["work"]
    )
    assert one.code == 0, one.stderr
    two = rshell_main("--session", "u", "-c", "b = e text=b; unset a", env=env, cwd=dirs["work"])
    assert two.code == 0, two.stderr
    assert _names(env, dirs["work"], "u") == {"b"}


@pytest.fixture
def live(sandbox: Any, dirs: dict[str, Path]) -> Any:
    with shells(dirs, sandbox.url, sandbox.token) as start:
        yield start


def test_a_repl_sees_a_binding_made_elsewhere_at_its_next_prompt(
    live: Callable[..., Terminal], sandbox: Any, dirs: dict[str, Path]
) -> None:
    env = _env(sandbox, dirs)
    term = live("--session", "w", prompt="rshell[w]> ")
    term.run("mine = run rshell/echo text=from-the-repl")
    other = rshell_main(  # in this process: another than the shell's
        "--session", "w", "-c", "theirs = run rshell/echo text=from-elsewhere", env=env, cwd=dirs["work"]
    )
    assert other.code == 0, other.stderr
    term.send("\r")  # Enter on an empty line: the next prompt
    term.pump(0.2)
    term.wait_prompt()
    term.clear()
    screen = term.run("show theirs.output")
    assert "from-elsewhere" in screen.split("show theirs.output", 1)[1]
    term.send("\x04")
    assert term.wait_exit() == 0
    assert {"mine", "theirs"} <= _names(env, dirs["work"], "w")


# -- the store itself ----------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RSHELL_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_an_old_json_session_migrates_once(data_dir: Path) -> None:
    sessions = data_dir / "sessions"
    sessions.mkdir(parents=True)
    old = {
        "variables": {"img": {"id": "p1", "status": "succeeded"}},
        "aliases": {"e": "run rshell/echo"},
        "options": {"json": True},
        "statements": ["img = run a/b"],
    }
    (sessions / "m.json").write_text(json.dumps(old))
    first = store.load_session("m")
    assert first.variables == old["variables"] and first.aliases == old["aliases"]
    assert first.options["json"] is True and first.statements == ["img = run a/b"]
    assert not (sessions / "m.json").exists()
    (sessions / "m.json").write_text(json.dumps(old))  # even if it comes back, it is not read twice
    again = store.load_session("m")
    assert again.statements == ["img = run a/b"]


def test_two_sessions_in_one_process_merge_per_name(data_dir: Path) -> None:
    a, b = store.load_session("s"), store.load_session("s")
    a.bind("x", 1)
    b.bind("y", 2)
    b.aliases["e"] = "run rshell/echo"
    store.save_session(a)
    store.save_session(b)
    assert b.variables == {"x": 1, "y": 2}  # a save also takes in what others wrote
    assert store.refresh_session(a)
    assert a.variables == {"x": 1, "y": 2} and a.aliases == {"e": "run rshell/echo"}
    a.unset("x")
    store.save_session(a)
    store.refresh_session(b)
    assert b.variables == {"y": 2}
    assert store.load_session("s").variables == {"y": 2}


def test_a_name_changed_here_and_not_yet_saved_keeps_its_value(data_dir: Path) -> None:
    a, b = store.load_session("s"), store.load_session("s")
    b.bind("x", "theirs")
    store.save_session(b)
    a.bind("x", "mine")
    store.refresh_session(a)
    assert a.variables["x"] == "mine"
    store.save_session(a)
    assert store.load_session("s").variables["x"] == "mine"


def test_a_damaged_database_is_set_aside(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sessions = data_dir / "sessions"
    sessions.mkdir(parents=True)
    (sessions / "sessions.db").write_bytes(b"this is not a database at all, not even close" * 100)
    session = store.load_session("d")
    assert session.variables == {}
    assert "damaged" in capsys.readouterr().err
    (aside,) = sessions.glob("sessions.db.bad-*")
    assert aside.read_bytes().startswith(b"this is not a database")
    session.bind("x", 1)
    store.save_session(session)
    assert store.load_session("d").variables == {"x": 1}


def test_the_database_is_private_and_holds_no_token(data_dir: Path) -> None:
    token = "r8_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2H1"
    session = store.load_session("p")
    session.bind("x", {"echo": token})
    session.aliases["bad"] = f"auth login {token}"
    session.statements.append(f"auth login {token}")
    store.save_session(session, (token,))
    db = data_dir / "sessions" / "sessions.db"
    assert oct(db.stat().st_mode & 0o777) == oct(0o600)
    raw = b"".join(p.read_bytes() for p in db.parent.iterdir() if p.is_file())
    assert token.encode() not in raw
    with sqlite3.connect(db) as check:
        assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_two_repls_on_one_session_both_keep_their_bindings(
    live: Callable[..., Terminal], sandbox: Any, dirs: dict[str, Path]
) -> None:
    """The issue's two windows: bind in each, leave both; both names survive, and each
    shell saw the other's binding at its next prompt."""
    one = live("--session", "two", prompt="rshell[two]> ")
    other = live("--session", "two", prompt="rshell[two]> ")
    one.run("aa = run rshell/echo text=first-window")
    other.run("bb = run rshell/echo text=second-window")
    one.clear()
    screen = one.run("show bb.output")
    assert "second-window" in screen.split("show bb.output", 1)[1]
    for term in (other, one):  # the one that bound first leaves last
        term.send("\x04")
        assert term.wait_exit() == 0
    assert {"aa", "bb"} <= _names(_env(sandbox, dirs), dirs["work"], "two")
