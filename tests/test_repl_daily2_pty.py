"""Daily use, round two (issue 22) in a real pseudo-terminal at the widths a person
uses (60, 120, 220 columns): the pager, narrow tables, the image preview, the
continuation marker, Tab in the completion menu."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_repl_pty import Terminal, shells


@pytest.fixture
def shell(dirs: dict[str, Path], sandbox: Any) -> Iterator[Callable[..., Terminal]]:
    """Start rshell in a pty against the sandbox: size and extra environment per shell."""
    with shells(dirs, url=sandbox.url, token=sandbox.token) as started:
        yield started


# 1. the pager leaves the result on the screen --------------------------------------------

ALTERNATE_SCREEN = b"\x1b[?1049h"  # what `less` without -X sends: its output is gone after `q`


def test_quitting_less_leaves_the_result_on_screen_at_60_by_30(shell) -> None:
    term = shell(rows=30, cols=60, PAGER="", LESS="")
    term.send("model schema rshell/pixels\r")
    term.wait_for(r"seed")
    assert ALTERNATE_SCREEN not in term.transcript  # -X: no alternate screen to wipe on `q`
    term.send("q")
    term.wait_prompt()
    screen = term.text()
    assert "seed" in screen  # the result stays in view (and in the scrollback)
    assert ALTERNATE_SCREEN not in term.transcript
