"""Budget (SPEC 10): the REPL shows its first prompt no later than ptpython.

Both start in a real pseudo-terminal (pexpect) whose screen pyte renders and whose
cursor-position requests it answers, as a terminal does, from the start of the
process to their prompt on the screen; interleaved in the same rounds, medians per
side, wall time (the user waits for the prompt). rshell runs against a closed port
(the REPL must not wait for the API to draw its prompt), with private data, config
and cache directories; ptpython with a private config directory. Every process keeps
its bytecode, as an installed one does (`budgets.installed_env`).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pexpect
import pyte
import pytest
from budgets import WALL, Figure, installed_env, interleaved, within_budget

pytestmark = pytest.mark.benchmark

ROUNDS = 7
RATIO = 1.0
ROWS, COLS = 40, 120
PROMPT_TIMEOUT_S = 60.0


class _Screen(pyte.Screen):
    """A pyte screen that answers the program's queries (cursor position) like a terminal."""

    def __init__(self, reply: Callable[[str], None]) -> None:
        super().__init__(COLS, ROWS)
        self._reply = reply

    def write_process_input(self, data: str) -> None:
        self._reply(data)


def _until_prompt(argv: list[str], prompt: str, env: dict[str, str], cwd: Path) -> None:
    """Start `argv` in a pty and return once `prompt` is on its screen; then end it."""
    child = pexpect.spawn(argv[0], argv[1:], env=env, cwd=str(cwd), dimensions=(ROWS, COLS))
    try:
        screen = _Screen(child.send)
        stream = pyte.ByteStream(screen)
        deadline = time.monotonic() + PROMPT_TIMEOUT_S
        while not any(line.startswith(prompt) for line in screen.display):
            if time.monotonic() > deadline:
                raise AssertionError(f"no {prompt!r} prompt from {argv}; screen:\n" + "\n".join(screen.display))
            try:
                stream.feed(child.read_nonblocking(65536, timeout=0.01))
            except pexpect.TIMEOUT:
                continue
    finally:
        child.terminate(force=True)
        child.close()


def test_repl_first_prompt_is_no_later_than_ptpython(tmp_path: Path) -> None:
    for name in ("home", "data", "config", "cache", "work"):
        (tmp_path / name).mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLICATE_", "RSHELL_", "XDG_", "PTPYTHON"))}
    env.update(
        TERM="xterm",
        LANG="C.UTF-8",
        HOME=str(tmp_path / "home"),
        RSHELL_DATA_DIR=str(tmp_path / "data"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        REPLICATE_BASE_URL="http://127.0.0.1:9/v1",  # nothing listens there
        REPLICATE_API_TOKEN="r8_fake-benchmark",
        COLUMNS=str(COLS),
        LINES=str(ROWS),
    )
    env = installed_env(env, str(tmp_path / "pycache"))
    work = tmp_path / "work"
    python = sys.executable

    def measure() -> Figure:
        ptpython, rshell = interleaved(
            ROUNDS,
            lambda: _until_prompt([python, "-m", "ptpython"], ">>>", env, work),
            lambda: _until_prompt([python, "-m", "rshell"], "rshell>", env, work),
            clock=WALL,
        )
        detail = f"first prompt: rshell {rshell * 1000:.0f} ms, ptpython {ptpython * 1000:.0f} ms"
        return Figure("REPL start to first prompt: rshell / ptpython (wall)", rshell, ptpython, RATIO, detail)

    within_budget(measure)
