"""`--local`: one sandbox per user, kept in the user data directory, at a stable address.

A result of one `--local` session must resolve in the next, so the sandbox keeps its
state in `<data dir>/local/` and listens again on the port it used last (when free):
the output URLs a session holds keep pointing at a live server.

Two `--local` processes at once (`rshell --local run … | rshell --local run …`, or two
terminals) share one sandbox: whoever holds the lock file serves, the others use its
address. The owner serves until it exits; a process that needs the sandbox after
that (the right side of a pipe reads its input first) takes the lock over and serves
the same data on the same port.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rshell.errors import RshellError
from rshell.sandbox.catalog import TOKEN

WAIT_FOR_OWNER = 15.0  # how long a sharer waits for the owner's sandbox to answer


def local_dir() -> Path:
    """`<user data dir>/local`: the sandbox's data, its address and its lock."""
    from rshell.session.store import data_dir

    return data_dir() / "local"


class LocalSandbox:
    """The sandbox a `--local` session talks to: `.url`, `.token`, `.stop()`.

    A sharer waits in a thread for the owner to leave, then serves the same data on the
    same address itself: a long session that shared keeps working after the owner ends
    (reads retry over the moment between).
    """

    def __init__(self, url: str, handle: Any = None, lock_fd: int | None = None) -> None:
        self.url = url
        self.token = TOKEN
        self._handle = handle
        self._lock_fd = lock_fd
        self._guard = threading.Lock()
        self._stopped = False

    @property
    def owned(self) -> bool:
        return self._handle is not None

    def wait_to_take_over(self, root: Path) -> None:
        threading.Thread(target=self._take_over, args=(root,), name="rshell-local-takeover", daemon=True).start()

    def _take_over(self, root: Path) -> None:
        fd = os.open(root / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)  # returns once the owner is gone
        from rshell.sandbox.server import start

        with self._guard:
            try:
                if self._stopped:
                    raise OSError("stopped")
                self._handle = start(root / "data", port=_port_of(self.url))
            except (OSError, RuntimeError):  # stopped meanwhile, or the port went to someone else
                os.close(fd)
                return
            self._lock_fd = fd
            _record(root, self.url)

    def stop(self) -> None:
        """Stop serving (an owner) and let the next `--local` take over."""
        with self._guard:
            self._stopped = True
            if self._handle is not None:
                self._handle.stop()
                self._handle = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)  # releases the lock
                self._lock_fd = None


def open_local(root: Path | None = None) -> LocalSandbox:
    """Serve the local sandbox, or share the one another `--local` already serves."""
    root = root or local_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        hint = "set RSHELL_DATA_DIR to a writable directory"
        raise RshellError(f"cannot create {root}: {error.strerror or error}", hint) from None
    deadline = time.monotonic() + WAIT_FOR_OWNER
    while True:
        lock_fd = _try_lock(root / "lock")
        if lock_fd is not None:
            return _serve(root, lock_fd)
        url = recorded_url(root)
        if url and answers(url):
            shared = LocalSandbox(url)
            shared.wait_to_take_over(root)
            return shared
        if time.monotonic() > deadline:
            raise RshellError(
                "another `rshell --local` holds the local sandbox, but it does not answer",
                f"end that process, or remove {root / 'lock'}",
            )
        time.sleep(0.05)  # the owner is starting: its address is not written yet


def _try_lock(path: Path) -> int | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _serve(root: Path, lock_fd: int) -> LocalSandbox:
    from rshell.sandbox.server import start

    try:
        try:
            handle = start(root / "data", port=_port_of(recorded_url(root)))
        except OSError:  # the last port is taken by something else: any free one
            handle = start(root / "data")
        _record(root, handle.url)
    except BaseException:
        os.close(lock_fd)
        raise
    _remove_stale_caches()
    return LocalSandbox(handle.url, handle, lock_fd)


def recorded_url(root: Path) -> str | None:
    """The address the local sandbox last served on."""
    try:
        url = json.loads((root / "address.json").read_text()).get("url")
    except (OSError, ValueError, AttributeError):
        return None
    return url if isinstance(url, str) and url.startswith("http://127.0.0.1:") else None


def _record(root: Path, url: str) -> None:
    from rshell.atomic import write_text

    write_text(root / "address.json", json.dumps({"url": url}) + "\n")


def _port_of(url: str | None) -> int:
    try:
        return (urlsplit(url).port or 0) if url else 0
    except ValueError:
        return 0


def answers(url: str) -> bool:
    """Whether something listens at the URL's port on this machine."""
    port = _port_of(url)
    if not port:
        return False
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


def _remove_stale_caches() -> None:
    """Completion caches of local sandboxes by port (what `--local` left before it kept
    one address) whose port no longer answers: they can only mislead."""
    from rshell.completion.cache import default_path

    folder = default_path().parent
    for path in folder.glob("completion-127.0.0.1_*.json"):
        port = path.stem.rsplit("_", 1)[-1]
        if port.isdigit() and not answers(f"http://127.0.0.1:{port}/v1"):
            with contextlib.suppress(OSError):
                path.unlink()
