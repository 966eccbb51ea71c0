"""`--local`: one sandbox per user, kept in the user data directory, at a stable address.

A result of one `--local` session must resolve in the next, so the sandbox keeps its
state in `<data dir>/local/` and listens again on the port it used last (when free):
the output URLs a session holds keep pointing at a live server.

The sandbox runs in a process of its own (`rshell.sandbox.detached`), not inside the
shell that first needed it: leaving that shell fails no run of another `--local`
process (`rshell --local run … | rshell --local run …`, or two terminals). Each
`--local` process holds ROOT/users shared while it runs; the server stops itself once
no process holds it, no run is unfinished and no request came for a while
(RSHELL_LOCAL_IDLE seconds), and the next `--local` process starts it again.
`python -m rshell.sandbox.local stop` stops it at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from rshell.errors import RshellError
from rshell.sandbox.catalog import TOKEN

WAIT_FOR_SERVER = 30.0  # how long a process waits for the sandbox to answer
STOP_TIMEOUT = 15.0


def local_dir() -> Path:
    """`<user data dir>/local`: the sandbox's data, its address and its locks."""
    from rshell.session.store import data_dir

    return data_dir() / "local"


class LocalSandbox:
    """The sandbox a `--local` session talks to: `.url`, `.token`, `.stop()` (this
    process no longer uses it; the server goes on for others)."""

    def __init__(self, url: str, users_fd: int | None = None) -> None:
        self.url = url
        self.token = TOKEN
        self._users_fd = users_fd

    def stop(self) -> None:
        if self._users_fd is not None:
            os.close(self._users_fd)  # releases this process's share of ROOT/users
            self._users_fd = None


def open_local(root: Path | None = None) -> LocalSandbox:
    """The local sandbox's address, starting its server when none serves."""
    root = root or local_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
        users_fd = os.open(root / "users", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        hint = "set RSHELL_DATA_DIR to a writable directory"
        raise RshellError(f"cannot create {root}: {error.strerror or error}", hint) from None
    try:
        deadline = time.monotonic() + WAIT_FOR_SERVER
        _share(users_fd, root, deadline)  # waits while a server is stopping
        return LocalSandbox(serving(root) or _start_server(root, deadline), users_fd)
    except BaseException:
        os.close(users_fd)
        raise


def _share(fd: int, root: Path, deadline: float) -> None:
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise RshellError(
                    "the local sandbox is stopping but does not finish", f"see {root / 'server.log'}"
                ) from None
            time.sleep(0.02)


def serving(root: Path) -> str | None:
    """The URL of the server serving ROOT now (its recorded pid alive, its port
    answering), or None."""
    address = _address(root)
    pid, url = address.get("pid"), recorded_url(root)
    if not isinstance(pid, int) or not url or not _alive(pid) or not answers(url):
        return None
    return url


def _start_server(root: Path, deadline: float) -> str:
    """Start the detached server and wait until it (or one started at the same time by
    another process) answers."""
    process = _spawn(root)
    while True:
        url = serving(root)
        if url:
            _remove_stale_caches()
            return url
        code = process.poll()
        if code not in (None, 0):
            raise RshellError(f"the local sandbox did not start: {_last_line(root)}", f"see {root / 'server.log'}")
        if code == 0 and _lock_free(root):
            process = _spawn(root)  # it found another one starting, which has stopped since
        if time.monotonic() > deadline:
            raise RshellError("the local sandbox did not answer in time", f"see {root / 'server.log'}")
        time.sleep(0.02)


def _spawn(root: Path) -> subprocess.Popen[bytes]:
    """The server in a session of its own, so no terminal signal or exit reaches it;
    its output goes to ROOT/server.log, never to the shell's (a pipe stays closable)."""
    with (root / "server.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "rshell.sandbox.detached", str(root)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=root,
            start_new_session=True,
            close_fds=True,
        )


def stop_local(root: Path | None = None) -> bool:
    """Stop the server serving ROOT (SIGTERM to its recorded pid, once it is checked to
    be that server); True when one was stopped."""
    root = root or local_dir()
    pid = _address(root).get("pid")
    if not isinstance(pid, int) or not _is_server(pid, root):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while _is_server(pid, root) and time.monotonic() < deadline:
        time.sleep(0.02)
    return True


def _is_server(pid: int, root: Path) -> bool:
    """Whether `pid` is the detached server of ROOT (by its command line)."""
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"rshell.sandbox.detached" in words and os.fsencode(str(root)) in words


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _last_line(root: Path) -> str:
    try:
        lines = (root / "server.log").read_text("utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1][:200] if lines else "no log"


def _lock_free(root: Path) -> bool:
    fd = try_lock(root / "lock")
    if fd is None:
        return False
    os.close(fd)
    return True


def try_lock(path: Path) -> int | None:
    """An exclusive lock on `path` (its open fd), or None when another holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _address(root: Path) -> dict[str, object]:
    try:
        found = json.loads((root / "address.json").read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def recorded_url(root: Path) -> str | None:
    """The address the local sandbox serves on, or last served on."""
    url = _address(root).get("url")
    return url if isinstance(url, str) and url.startswith("http://127.0.0.1:") else None


def record(root: Path, url: str, pid: int | None) -> None:
    """Where the server listens and, while it serves, its pid."""
    from rshell.atomic import write_text

    write_text(root / "address.json", json.dumps({"url": url, "pid": pid}) + "\n")


def port_of(url: str | None) -> int:
    try:
        return (urlsplit(url).port or 0) if url else 0
    except ValueError:
        return 0


def answers(url: str) -> bool:
    """Whether something listens at the URL's port on this machine."""
    port = port_of(url)
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


def main(argv: list[str]) -> int:
    """`python -m rshell.sandbox.local stop`: stop the user's local sandbox now."""
    if argv != ["stop"]:
        print("usage: python -m rshell.sandbox.local stop", file=sys.stderr)
        return 2
    print("stopped the local sandbox" if stop_local() else "no local sandbox is running", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
