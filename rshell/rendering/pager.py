"""A pager for results taller than the screen, as pgcli and git do.

`$PAGER` (a shell command line) or else `less -R`, only when stdout is a terminal and
the text does not fit on it; without either, the text is printed as before. The
caller decides whether paging is wanted (`set pager off`). A user without `$LESS`
gets pgcli's `LESS=-SRXF`: colours, no alternate screen (the result stays on the
screen and in the scrollback after `q`), long lines chopped, and a text that fits
after all is printed without waiting for `q`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from typing import IO

LESS = "-SRXF"


def rows_needed(text: str, columns: int) -> int:
    """Screen rows `text` takes when lines longer than `columns` wrap."""
    columns = max(1, columns)
    return sum(max(1, -(-len(line) // columns)) for line in text.splitlines())


def too_tall(text: str, size: os.terminal_size) -> bool:
    """True when the text would scroll off: one row is kept for the next prompt."""
    return rows_needed(text, size.columns) > max(1, size.lines - 1)


def command() -> tuple[list[str], dict[str, str]] | None:
    """The pager to run and its environment; None when there is none to run."""
    env = dict(os.environ)
    if not env.get("LESS"):
        env["LESS"] = LESS  # `PAGER=less` shows the colours too, and leaves the text on screen
    chosen = os.environ.get("PAGER", "").strip()
    if chosen:
        return ["/bin/sh", "-c", chosen], env
    found = shutil.which("less")
    return ([found, "-R"], env) if found else None


def page(text: str, stdout: IO[str]) -> bool:
    """Show `text` in the pager; False (nothing shown) when there is no pager or it
    could not start, so the caller prints it instead."""
    chosen = command()
    if chosen is None:
        return False
    argv, env = chosen
    stdout.flush()
    try:
        with _ctrl_c_to_the_pager():
            done = subprocess.run(
                argv, input=text.encode(errors="replace"), env=env, check=False, preexec_fn=_default_ctrl_c
            )
    except OSError:
        return False
    return done.returncode not in _NOT_RUN


_NOT_RUN = (126, 127)  # sh: the $PAGER command cannot run, or is not installed: nothing was shown


@contextlib.contextmanager
def _ctrl_c_to_the_pager() -> Iterator[None]:
    """Ctrl-C while the pager runs is the pager's (less stays, as under git): the shell
    ignores it, so it neither cancels the statements after this one nor clears the
    next prompt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, saved)


def _default_ctrl_c() -> None:
    """In the pager's process: Ctrl-C acts as it would there, not ignored as here."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
