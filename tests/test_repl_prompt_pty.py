"""The prompt as IPython and ptpython users expect it, in a real pseudo-terminal:
prefix history search, Tab that accepts, Alt-Enter, $EDITOR, ways out, the banner,
Vi's mode in the toolbar, suggestions only from lines that worked, `history N`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_repl_pty import Terminal, shells

UP, ALT_ENTER, ESC = "\x1b[A", "\x1b\r", "\x1b"


@pytest.fixture
def shell(dirs: dict[str, Path]) -> Iterator[Callable[..., Terminal]]:
    """rshell against a closed port (nothing here needs the API); extra env on request."""
    with shells(dirs, token="r8_fake-prompt") as start:
        yield start


def test_banner_says_where_and_how_to_get_help(shell: Callable[..., Terminal]) -> None:
    term = shell()
    assert "on 127.0.0.1:9: `help` lists commands" in term.text()


def test_up_with_text_typed_searches_history_by_that_prefix(shell: Callable[..., Terminal]) -> None:
    term = shell()
    term.run("set json on")
    term.run("vars")
    term.send("set")
    term.wait_until(lambda: term.cursor_line().startswith("rshell> set"), "typed prefix")
    term.send(UP)  # the newest line is `vars`; the newest starting with `set` is wanted
    term.wait_until(lambda: term.cursor_line() == "rshell> set json on", "the prefix match")


def test_tab_takes_the_only_candidate_and_never_cycles_back_to_the_typed_text(shell: Callable[..., Terminal]) -> None:
    term = shell()
    term.send("hardw")
    term.wait_until(lambda: term.cursor_line() == "rshell> hardw", "typed text")
    term.send("\t")  # the only candidate: taken at once
    term.wait_until(lambda: term.cursor_line().startswith("rshell> hardware"), "the accepted completion")
    term.send("\x03")
    term.wait_prompt()
    term.send("model s")
    term.wait_until(lambda: term.cursor_line() == "rshell> model s", "typed text")
    term.send("\t")  # the menu, opened by typing, gets its first candidate highlighted
    term.wait_until(lambda: term.cursor_line() != "rshell> model s", "a highlighted candidate")
    taken = term.cursor_line()
    assert taken.startswith("rshell> model s") and len(taken) > len("rshell> model s")
    for _ in range(4):  # more Tabs move through the menu, wrapping: prompt-toolkit's own would come back to `s`
        term.send("\t")
        term.pump(0.3)
        assert term.cursor_line() != "rshell> model s", term.text()


def test_alt_enter_inserts_a_newline(shell: Callable[..., Terminal]) -> None:
    term = shell()
    term.send("vars")
    term.wait_for("rshell> vars")
    term.send(ALT_ENTER)
    term.wait_until(lambda: term.cursor_line().strip() == "...", "a continuation line")
    term.send("\r")
    term.wait_prompt()
    assert "rshell> vars\n    ...\nno named res" in term.text()  # one statement over two lines, run


def test_ctrl_x_ctrl_e_edits_the_line_in_editor(shell: Callable[..., Terminal]) -> None:
    term = shell(EDITOR="sed -i s/placeholder/status/", VISUAL="sed -i s/placeholder/status/")
    term.send("placeholder")
    term.wait_for("rshell> placeholder")
    term.send("\x18\x05")
    term.wait_for(r"^session +default$")  # `status` ran: the editor's text was executed
    term.wait_prompt()


@pytest.mark.parametrize("way_out", ["quit\r", "\\q\r", "exit\r", "\x04"])
def test_ways_out(shell: Callable[..., Terminal], way_out: str) -> None:
    term = shell()
    term.send(way_out)
    assert term.wait_exit() == 0


def test_vi_mode_shows_insert_and_nav(shell: Callable[..., Terminal]) -> None:
    term = shell()
    term.run("set editing_mode vi")
    term.wait_until(lambda: "vi INSERT" in term.toolbar(), "INSERT in the toolbar")
    term.send(ESC)
    term.wait_until(lambda: "vi NAV" in term.toolbar(), "NAV in the toolbar")
    term.send("i")
    term.wait_until(lambda: "vi INSERT" in term.toolbar(), "INSERT again")


def test_auto_suggest_skips_lines_that_failed(shell: Callable[..., Terminal]) -> None:
    term = shell()
    term.run("set json on")
    term.run("show nothing_here")  # fails: undefined variable, and is the newest line
    term.send("s")
    # the grey suggestion completes `s` to the newest line that worked
    term.wait_until(lambda: term.cursor_line() == "rshell> set json on", "a suggestion from a line that worked")
    assert term.screen.cursor.x == len("rshell> s")


def test_history_n_lists_the_newest_n(shell: Callable[..., Terminal]) -> None:
    term = shell()
    for line in ("set json on", "set json off", "vars"):
        term.run(line)
    term.clear()
    screen = term.run("history 2")
    listed = [row.strip() for row in screen.splitlines()[1:] if row.strip() and "in flight" not in row]
    assert listed[:2] == ["3  vars", "4  history 2"], listed  # the line itself is history's newest
    assert "set json" not in screen
