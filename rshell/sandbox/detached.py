"""The `--local` sandbox's own process: it serves the user's local sandbox apart from
every shell, and stops itself once nothing has used it for a while.

`python -m rshell.sandbox.detached ROOT` is started by `local.open_local` (in a session
of its own, its output to ROOT/server.log). It serves ROOT/data on the port it used
last (when free) while holding ROOT/lock, so one serves at a time, and writes its
address and pid to ROOT/address.json.

In use means: an rshell process holds ROOT/users (each `--local` process holds it
shared while it runs), a prediction or training is unfinished, or a request was
answered within the idle time (RSHELL_LOCAL_IDLE seconds, default 60). Once none of
these holds, it takes ROOT/users exclusively (so no process starts using it meanwhile),
stops serving, and exits; the next `--local` process starts it again on the same port
with the same data. SIGTERM (`python -m rshell.sandbox.local stop`) stops it at once.
"""

from __future__ import annotations

import fcntl
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

IDLE_ENV = "RSHELL_LOCAL_IDLE"
DEFAULT_IDLE = 60.0  # seconds unused before the server stops itself
CHECK_EVERY = 0.2  # seconds between looks at whether it is still in use


def idle_seconds(env: Mapping[str, str] = os.environ) -> float:
    """RSHELL_LOCAL_IDLE, or the default when it is unset or not a number >= 0."""
    try:
        value = float(env.get(IDLE_ENV, DEFAULT_IDLE))
    except ValueError:
        return DEFAULT_IDLE
    return value if math.isfinite(value) and value >= 0 else DEFAULT_IDLE


class Activity:
    """When the server was last seen in use (a response sent, a user, a run)."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    def touch(self, *_: Any) -> None:
        self.last = time.monotonic()


def runs_in_flight(sandbox: Any) -> bool:
    """Whether a prediction or training has not finished (one indexed query each)."""
    from rshell.sandbox.runner import TERMINAL
    from rshell.sandbox.store import Query

    unfinished = Query(unfinished=TERMINAL)
    return any(sandbox.store.rows(kind, unfinished, limit=1) for kind in ("predictions", "trainings"))


def claim_users(fd: int) -> bool:
    """Take the users lock exclusively when no rshell process holds it (kept: True)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def wait_until_unused(sandbox: Any, users_fd: int, activity: Activity, idle: float, stop: threading.Event) -> None:
    """Return once the server has been unused for `idle` seconds, holding the users
    lock, or when `stop` is set (a signal)."""
    while not stop.wait(CHECK_EVERY):
        if time.monotonic() - activity.last < idle:
            continue
        if not claim_users(users_fd):
            activity.touch()  # a shell still uses it: the idle time starts when it leaves
            continue
        if not runs_in_flight(sandbox) and time.monotonic() - activity.last >= idle:
            return
        fcntl.flock(users_fd, fcntl.LOCK_UN)
        activity.touch()


def serve(root: Path) -> int:
    """Serve ROOT until unused or signalled; 0 also when another process already serves."""
    from rshell.sandbox.local import port_of, record, recorded_url, try_lock
    from rshell.sandbox.server import start

    lock_fd = try_lock(root / "lock")
    if lock_fd is None:
        return 0  # another one serves (two shells started one at once)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    activity = Activity()
    try:
        handle = start(root / "data", port=port_of(recorded_url(root)), observe=activity.touch)
    except OSError:  # the last port is taken by something else: any free one
        handle = start(root / "data", observe=activity.touch)
    users_fd = os.open(root / "users", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        record(root, handle.url, os.getpid())
        print(f"serving {root / 'data'} on {handle.url} (pid {os.getpid()})", file=sys.stderr, flush=True)
        wait_until_unused(handle.sandbox, users_fd, activity, idle_seconds(), stop)
    finally:
        record(root, handle.url, None)  # the port for next time; nobody serves it now
        handle.stop()
        os.close(lock_fd)
        print("stopped", file=sys.stderr, flush=True)
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m rshell.sandbox.detached ROOT", file=sys.stderr)
        return 2
    return serve(Path(argv[0]))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
