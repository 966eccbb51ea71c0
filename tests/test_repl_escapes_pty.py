"""Issue 18 item 6: no input kills the REPL or shows a traceback.

Escape sequences typed or pasted without bracketed paste (a terminal's mouse report
cut short, a colour code) reach prompt-toolkit's key and mouse handlers in a real
pty; the shell must ignore them or take them as text, and the prompt must stay
usable. Ctrl-C pressed just after Enter must not print an exception either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_repl_pty import Terminal, shells

SEQUENCES = [
    "\x1b[5M",  # a mouse report cut short
    "\x1b[31m",  # a colour code
    "\x1b[0m",
    "\x1b[<1;2M",  # an SGR mouse report with a field missing
    "\x1b[<99;999;999m",
    "\x1b[M!!",  # an X10 report cut short
    "\x1b[1;5Z",
    "\x1b[?1049h",
    "\x1b]0;title\x07",
    "\x1b[38;5;200m",
]


@pytest.fixture
def offline(dirs: dict[str, Path]) -> Iterator[Callable[..., Terminal]]:
    """rshell against a closed port: typing needs no API."""
    with shells(dirs, token="r8_fake-escapes") as start:
        yield start


BAD = ("Unhandled exception", "Traceback", "Exception in callback", "Press ENTER")


def _clean(term: Terminal) -> None:
    text = term.transcript.decode("utf-8", "replace")
    found = [b for b in BAD if b in text]
    assert not found, f"{found} shown; screen:\n{term.text()}"


@pytest.mark.parametrize("sequence", SEQUENCES, ids=[repr(s) for s in SEQUENCES])
def test_an_escape_sequence_typed_at_the_prompt_is_harmless(offline: Callable[..., Terminal], sequence: str) -> None:
    term = offline()
    term.send("ab" + sequence + "cd")
    term.pump(0.5)
    term.send("\x15")  # Ctrl-U: whatever was inserted goes
    term.pump(0.3)
    screen = term.run("set json")
    assert "json" in screen.split("set json", 1)[1], screen
    _clean(term)
    assert term.child.isalive()
    term.send("\x04")
    assert term.wait_exit() == 0
    _clean(term)


def test_every_sequence_in_one_session_then_the_shell_still_works(offline: Callable[..., Terminal]) -> None:
    term = offline()
    for _ in range(3):
        for sequence in SEQUENCES:
            term.send(sequence)
            term.pump(0.05)
        term.send("\x15")
    term.pump(0.5)
    screen = term.run("set json")
    assert "json" in screen.split("set json", 1)[1], screen
    _clean(term)


def test_ctrl_c_just_after_enter_shows_no_exception(offline: Callable[..., Terminal], tmp_path: Path) -> None:
    term = offline()
    for _ in range(5):
        term.send("set json\r")
        term.send("\x03")
        term.pump(0.3)
        term.wait_prompt()
    term.send("\x04")
    assert term.wait_exit() == 0
    _clean(term)


def test_a_key_handler_that_raises_is_one_line_and_the_prompt_goes_on() -> None:
    import asyncio

    from prompt_toolkit.completion import DummyCompleter
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings
    from prompt_toolkit.output import DummyOutput
    from test_repl_app import RecordingExecutor

    from rshell.repl.app import Repl
    from rshell.session.state import Session

    broken = KeyBindings()

    @broken.add("c-t")
    def _explode(event: object) -> None:
        raise ZeroDivisionError("a bug in a key handler")

    async def scenario() -> RecordingExecutor:
        executor = RecordingExecutor(Session())
        with create_pipe_input() as pipe:
            repl = Repl(executor, completer=DummyCompleter(), input=pipe, output=DummyOutput())  # type: ignore[arg-type]
            repl.prompt.key_bindings = merge_key_bindings([repl.prompt.key_bindings, broken])
            task = asyncio.ensure_future(repl.run())
            pipe.send_text("\x14\x14")
            pipe.send_text("vars\r")
            try:  # the statement after the broken keys ran (an event; the timeout bounds a hang)
                await asyncio.wait_for(executor.started.wait(), timeout=20)
            finally:
                pipe.send_text("\x04")
                if not executor.ran:
                    task.cancel()
            await asyncio.wait_for(task, timeout=20)
        return executor

    executor = asyncio.run(scenario())
    assert executor.ran == ["vars"]
    said = [line for line in executor.stderr.getvalue().splitlines() if "ZeroDivisionError" in line]
    assert len(said) == 2 and "a key was ignored" in said[0]
    assert "Traceback" not in executor.stderr.getvalue()
