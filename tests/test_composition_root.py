"""Issue 17 item 3: one composition root. Every entry (`-c`, argv one-shots, `--complete`)
builds the client, the session and the `--local` sandbox the same way, so what a
session runs it also completes, and every command sees the lazily started sandbox.

In this process, through `cli.main(args, env)` (`rsh.rshell_main`): nothing here needs
a real process."""

from __future__ import annotations

from pathlib import Path

import pytest
from rsh import rshell_main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private home, config, data and cache; no token, no base URL."""
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "RSHELL_DATA_DIR"):
        path = tmp_path / name.lower()
        path.mkdir()
        monkeypatch.setenv(name, str(path))
    for name in ("REPLICATE_API_TOKEN", "REPLICATE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_local_auth_login_as_the_first_statement_reaches_the_sandbox(home: Path) -> None:
    from rshell.sandbox.catalog import TOKEN

    done = rshell_main("--local", "auth", "login", "--token-stdin", stdin=TOKEN + "\n")
    assert done.code == 0, done.stderr
    assert "cannot reach" not in done.stderr
    assert TOKEN not in done.stdout + done.stderr


def test_a_session_alias_completes_as_it_runs(sandbox, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLICATE_BASE_URL", sandbox.url)
    monkeypatch.setenv("REPLICATE_API_TOKEN", sandbox.token)
    made = rshell_main("--session", "s", "-c", "alias e='run rshell/echo'; e text=hi")
    assert made.code == 0, made.stderr
    done = rshell_main("--session", "s", "--complete", "e te")
    assert done.code == 0, done.stderr
    assert any(line.split("\t")[0] == "text=" for line in done.stdout.splitlines()), done.stdout


def _process_state() -> dict[str, object]:
    """What a run in this process could leave behind for the next one."""
    import asyncio
    import os
    import signal
    import sys
    import threading

    umask = os.umask(0)
    os.umask(umask)
    wakeup = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(wakeup)
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGHUP, signal.SIGWINCH)
    return {
        "threads": set(threading.enumerate()),
        "descriptors": _descriptors(),
        "signals": {number: signal.getsignal(number) for number in signals},
        "wakeup fd": wakeup,
        "environment": dict(os.environ),
        "directory": os.getcwd(),
        "streams": (sys.stdin, sys.stdout, sys.stderr),
        "event loop": asyncio.get_event_loop_policy()._local._loop,  # type: ignore[attr-defined]
        "umask": umask,
    }


def _descriptors() -> dict[str, str]:
    """This process's open descriptors and what each one is."""
    import contextlib
    import os

    found = {}
    for number in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own, closed by now
            found[number] = os.readlink(f"/proc/self/fd/{number}")
    return found


def test_main_leaves_the_process_as_it_found_it(home: Path) -> None:
    """The tests run the composition root many times in one process: no run may leave
    a thread, a descriptor, a signal handler, an event loop or a changed environment."""
    from rshell.sandbox.catalog import TOKEN

    login = ("--local", "auth", "login", "--token-stdin")
    rshell_main(*login, stdin=TOKEN + "\n")  # the sandbox and the imports, before the first look
    before = _process_state()
    runs = [
        rshell_main("-c", "help run"),
        rshell_main("--local", "--session", "s", "-c", "a = run rshell/echo text=hi; show a.output"),
        rshell_main("--local", "--session", "s", "--complete", "run rshell/ec"),
        rshell_main("--local", "-c", "run rshell/echo textt=x"),
        rshell_main("-c", "account current", env={"HOME": str(home)}, cwd=home.parent),
        rshell_main("--no-such-option"),
    ]
    assert [run.code for run in runs] == [0, 0, 0, 2, 1, 2], [run.stderr for run in runs]
    assert runs[1].stdout.splitlines()[-1] == '"hi"'
    after = _process_state()
    changed = {key: _difference(before[key], value) for key, value in after.items() if before[key] != value}
    assert changed == {}


def _difference(before: object, after: object) -> object:
    """What changed: for a dict or a set, only the entries that differ."""
    if isinstance(before, dict) and isinstance(after, dict):
        return {"gone": before.items() - after.items(), "new": after.items() - before.items()}
    if isinstance(before, set) and isinstance(after, set):
        return {"gone": before - after, "new": after - before}
    return (before, after)


def test_a_local_completion_leaves_the_process_logging_alone(home: Path) -> None:
    """`--local --complete` starts a sandbox in this process when its cache is empty: its
    web server must not configure the process's logging (which closes every handler
    the host has: here a file that is no longer written)."""
    import logging

    handler = logging.FileHandler(home / "host.log", mode="w")  # once closed, never reopened
    host = logging.getLogger("host")
    host.addHandler(handler)
    try:
        done = rshell_main("--local", "--complete", "run rshell/ec")
        host.warning("still logging")
    finally:
        host.removeHandler(handler)
        handler.close()
    assert done.code == 0 and done.stdout.startswith("rshell/echo\t"), done.stdout  # from the sandbox it started
    assert (home / "host.log").read_text() == "still logging\n"
