"""Keys typed while a statement runs in the shell.

Between prompts the terminal is back in its cooked mode, so it echoes what is typed at
the cursor, in the middle of a spinner, a retry notice or an error ("typedcannot
reach…"). The kernel keeps the keys either way, and the next prompt reads them into
its line. So while a statement runs the echo is off (`held`); a child process that
talks to the person (`!cmd`) gets the terminal as it was (`released`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

_held: list[tuple[int, list[Any]]] = []  # (fd, the attributes to restore) while held


def _attributes(fd: int) -> list[Any] | None:
    try:
        import termios
    except ImportError:  # not POSIX: the keys echo as before
        return None
    try:
        return termios.tcgetattr(fd)
    except (termios.error, OSError, ValueError):  # not a terminal
        return None


def _set(fd: int, attributes: list[Any]) -> None:
    import termios

    with contextlib.suppress(termios.error, OSError, ValueError):
        termios.tcsetattr(fd, termios.TCSANOW, attributes)


@contextlib.contextmanager
def held(fd: int | None) -> Iterator[None]:
    """No echo on the terminal `fd` for the duration; Ctrl-C still interrupts (ISIG
    stays) and line editing still works for the keys kept."""
    saved = _attributes(fd) if fd is not None else None
    if fd is None or saved is None:
        yield
        return
    import termios

    quiet = list(saved)
    quiet[3] = saved[3] & ~(termios.ECHO | termios.ECHONL)
    _set(fd, quiet)
    _held.append((fd, saved))
    try:
        yield
    finally:
        _held.pop()
        _set(fd, saved)


@contextlib.contextmanager
def released() -> Iterator[None]:
    """The terminal as it was before `held`, for a child process, then held again."""
    if not _held:
        yield
        return
    fd, saved = _held[-1]
    quiet = _attributes(fd)
    _set(fd, saved)
    try:
        yield
    finally:
        if quiet is not None:
            _set(fd, quiet)
