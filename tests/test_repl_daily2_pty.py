"""Daily use, round two (issue 22) in a real pseudo-terminal at the widths a person
uses (60, 120, 220 columns): the pager, narrow tables, the image preview, the
continuation marker, Tab in the completion menu."""

from __future__ import annotations

import re
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


# 2. tables fit or stack at 60 columns -------------------------------------------------------


def _fits(screen: str, cols: int) -> list[str]:
    """The lines of `screen` that run into the last column (pyte wraps what is wider)."""
    return [line for line in screen.splitlines() if len(line) >= cols]


def test_lists_and_vars_fit_or_stack_at_60_columns(shell, dirs) -> None:
    (dirs["work"] / "notes.txt").write_text("hello")
    term = shell(rows=50, cols=60)
    for n in range(3):
        term.run(f"echo{n} = run rshell/echo text='long line {n}'")
    term.run("bg = run rshell/echo text=later --no-wait")
    term.run("files upload notes.txt")
    term.clear()
    screen = term.run("prediction list --limit 3")
    assert not _fits(screen, 60), screen
    assert "rshell/echo" in screen and "…" not in screen  # the model whole, not `rshe…`
    assert "created" in screen.lower() and re.search(r"\d\d:\d\d", screen)  # the time whole on its line
    term.clear()
    screen = term.run("files list")
    assert not _fits(screen, 60), screen
    assert "notes.txt" in screen and "CREATED\n" not in screen.replace(" ", "")
    term.clear()
    screen = term.run("vars")
    assert not _fits(screen, 60), screen
    assert "echo2" in screen and "long line 2" in screen


# 9, 10. Tab offers `run` first, cycles on; Enter takes the highlighted one --------------------


def test_tab_cycles_through_the_menu_and_enter_takes_the_highlighted_item(shell) -> None:
    term = shell()
    term.send("r")
    term.wait_until(lambda: term.cursor_line() == "rshell> r", "typed text")
    term.send("\t")
    term.wait_until(lambda: term.cursor_line() == "rshell> run", "`run`, the best match, highlighted first")
    term.send("\t")
    term.wait_until(lambda: term.cursor_line() == "rshell> rerun", "the second Tab moving on to the next")
    term.send("\t")
    term.wait_until(lambda: term.cursor_line() == "rshell> rerun-line", "the third, the last")
    term.send("\t")
    term.wait_until(lambda: term.cursor_line() == "rshell> run", "wrapping to the first, not to the typed `r`")
    term.send("\r")  # takes `run`, closes the menu, runs nothing
    term.wait_until(lambda: not re.search(r"^\s+rerun\b", term.text(), re.M), "the menu to close")
    assert term.cursor_line() == "rshell> run" and "error" not in term.text()
    term.send(" rshell/echo text=taken\r")
    term.wait_for(r"^taken$")


# 11. completion descriptions use the width -------------------------------------------------


def test_completion_descriptions_are_whole_at_220_columns(shell) -> None:
    term = shell(cols=220)
    term.send("w")
    term.wait_for(r"^ +wait +Follow bound runs")
    line = term.wait_for(r"^ +wait +Follow bound runs.*$").group(0)
    assert line.rstrip().endswith("bind each name to the result."), line  # not cut at ~90 characters
    assert not line.rstrip().endswith("…")


# 8. a soft-wrapped line has no continuation marker --------------------------------------------


def test_a_long_soft_wrapped_line_shows_no_continuation_marker_at_60_columns(shell) -> None:
    term = shell(cols=60)
    line = "run rshell/echo text='" + "word " * 16 + "end'"  # 104 characters: wraps once
    term.send(line)
    term.wait_for(r"end'")
    typed = term.text().split("rshell> ", 1)[1]
    assert "..." not in typed, term.text()
    assert "word" in typed.splitlines()[1]  # the wrapped part, from the first column
    term.send("\r")
    term.wait_for(r"succeeded in")  # one statement, run whole
    assert "error" not in term.text()


# 6. the image preview: a glance after the URL it refers to ------------------------------------

HALF_BLOCK = "▀"


def test_auto_preview_is_a_few_lines_after_the_url_at_220_by_50(shell) -> None:
    term = shell(rows=50, cols=220)
    term.run("set preview auto")
    term.clear()
    screen = term.run("run rshell/pixels prompt=cat")
    lines = screen.splitlines()
    drawn = [i for i, line in enumerate(lines) if HALF_BLOCK in line]
    url = next(i for i, line in enumerate(lines) if re.search(r"https?://\S+\.png", line))
    assert drawn and 4 <= len(drawn) <= 12, screen  # a glance, not 47 rows
    assert url < drawn[0], screen  # the URL first, then its picture
    assert max(lines[i].count(HALF_BLOCK) for i in drawn) <= 30, screen
    term.clear()
    screen = term.run("preview _")  # asked for: the screen's size
    assert sum(HALF_BLOCK in line for line in screen.splitlines()) > 12, screen


def test_the_preview_hint_comes_after_the_url_it_refers_to(shell) -> None:
    term = shell(rows=50, cols=220)
    screen = term.run("run rshell/pixels prompt=owl")
    lines = screen.splitlines()
    url = next(i for i, line in enumerate(lines) if re.search(r"https?://\S+\.png", line))
    hint = next(i for i, line in enumerate(lines) if "preview _ draws it here" in line)
    assert url < hint, screen
