"""Daily use of the shell in a real pseudo-terminal (issue 12): the spinner during the
synchronous wait, the pager, tables fitted to the width, colour, and typing while a
dead server is retried."""

from __future__ import annotations

import re
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rsh import rshell_main
from sleeper_model import cog_schema
from test_repl_pty import CLOSED_PORT, PROMPT, Terminal, base_env, shells

from rshell.sandbox.predictors.base import RunContext

GATED = "bench/gate"


class Gate:
    """A sandbox model that holds every run until the test opens the gate, and says
    when a run reached it (so the test knows the create is being held)."""

    description = "waits for the test"
    hardware = "cpu"
    trainable = False

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.open = threading.Event()

    def openapi_schema(self) -> dict[str, Any]:
        return cog_schema(x={"type": "integer"})

    def predict(self, inputs: dict[str, Any], run: RunContext, weights: dict[str, Any] | None = None) -> str:
        self.arrived.set()
        while not self.open.wait(0.05):
            if run.cancelled():
                return "canceled"
        return f"through x={inputs['x']}"


@pytest.fixture
def gate() -> Iterator[tuple[Gate, Any]]:
    """A sandbox whose only model is the gate (opened at the end so nothing hangs)."""
    from rshell.sandbox.server import start

    model = Gate()
    handle = start(predictors={GATED: model})
    try:
        yield model, handle
    finally:
        model.open.set()
        handle.stop()


@pytest.fixture
def shell(dirs: dict[str, Path]) -> Iterator[Callable[..., Terminal]]:
    """Start rshell in a pty: `url` (default a closed port), token, size, extra environment."""
    with shells(dirs, token="r8_fake-daily") as started:

        def start(url: str = CLOSED_PORT, token: str = "r8_fake-daily", **options: Any) -> Terminal:
            return started(url=url, token=token, **options)

        yield start


# 1. the spinner during the synchronous wait --------------------------------------------


def test_spinner_shows_while_the_create_is_held_by_prefer_wait(shell, gate) -> None:
    model, sandbox = gate
    term = shell(sandbox.url, sandbox.token)
    term.send("run bench/gate x=1\r")
    assert model.arrived.wait(20), "the create never reached the model"
    # the create has not answered (the model is held): the spinner already says what runs
    first = term.wait_for(r"[|/\\-] bench/gate starting (\d+\.\d)s")
    term.wait_until(
        lambda: (m := re.search(r"bench/gate starting (\d+\.\d)s", term.text())) and m.group(1) != first.group(1),
        "the elapsed time to move on",
    )
    model.open.set()
    term.wait_prompt()
    screen = term.text()
    assert "through x=1" in screen
    assert "bench/gate starting" not in screen  # the spinner's line was cleared


def test_a_sync_wait_that_ends_early_carries_on_into_polling_without_a_gap(shell, gate) -> None:
    model, sandbox = gate
    term = shell(sandbox.url, sandbox.token)
    term.send("run bench/gate x=2 --wait=1\r")
    assert model.arrived.wait(20)
    # the one-second window ends without a result: now it is labelled with the prediction's id
    found = term.wait_until(
        lambda: re.search(r"[|/\\-] ([a-z0-9]{10,}) (starting|processing) ", term.text()), "polling"
    )
    model.open.set()
    term.wait_prompt()
    assert "through x=2" in term.text()
    spinning = term.transcript.decode(errors="replace")
    between = spinning[spinning.index("bench/gate starting") : spinning.index(found.group(1) + " ")]
    assert not re.search(r"\r +\r", between), "the spinner was blanked between the sync wait and the polling"


# 2. the pager -------------------------------------------------------------------------


@pytest.fixture
def pager(tmp_path: Path) -> tuple[str, Path]:
    """A PAGER that records each call and the text it was given."""
    record = tmp_path / "paged.txt"
    script = tmp_path / "pager.sh"
    script.write_text(f"#!/bin/sh\necho CALLED >> {record}\ncat >> {record}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script), record


def calls(record: Path) -> int:
    return record.read_text().count("CALLED\n") if record.exists() else 0


def paged(record: Path) -> str:
    """What the pager was given, its colours taken out."""
    return re.sub(r"\x1b\[[0-9;]*m", "", record.read_text())


def test_tall_output_goes_through_pager_and_set_pager_off_stops_it(shell, pager) -> None:
    script, record = pager
    term = shell(PAGER=script)
    term.run("vars")  # fits on the screen: printed, never paged
    assert calls(record) == 0
    term.clear()
    screen = term.run("help")
    assert calls(record) == 1
    assert "prediction create" in paged(record)
    assert "prediction create" not in screen  # the pager had it, not the screen
    term.run("set pager off")
    term.clear()
    screen = term.run("help")
    assert calls(record) == 1
    assert "prediction" in screen


def test_model_list_json_is_paged_on_a_terminal_but_never_off_one(shell, pager, sandbox, dirs) -> None:
    script, record = pager
    term = shell(sandbox.url, sandbox.token, rows=24, PAGER=script)
    term.run("model list --json")
    assert calls(record) == 1
    assert "\x1b[1;34m" in record.read_text()  # in colour: `less -R` shows it
    assert '"owner": "rshell"' in paged(record)
    term.close()
    env = {**base_env(dirs, sandbox.url, sandbox.token), "PAGER": script}
    off_tty = rshell_main("-c", "model list --json", env=env)  # stdout not a terminal
    assert off_tty.code == 0 and '"owner": "rshell"' in off_tty.stdout
    assert calls(record) == 1  # a pipe gets the text itself


# 3. tables fitted to the width, colour -------------------------------------------------

DESCRIPTION = "Random seed; leave blank to derive one from the prompt"


def _words_whole(screen: str, text: str) -> bool:
    """Every word of `text` is on the screen as a whole word (none broken across lines)."""
    found = set(screen.split())
    return all(word in found for word in text.split())


def test_schema_at_80_columns_gives_the_description_room(shell, sandbox) -> None:
    term = shell(sandbox.url, sandbox.token, rows=60, cols=80)
    screen = term.run("model schema rshell/pixels")
    header = next(line for line in screen.splitlines() if line.startswith("INPUT"))
    assert len(header) - header.index("DESCRIPTION") >= 24 or header.endswith("DESCRIPTION")
    described = next(line for line in screen.splitlines() if line.startswith("seed "))
    assert len(described) - header.index("DESCRIPTION") >= 20  # not cut to ~13 characters
    assert "…" not in screen
    assert _words_whole(screen, DESCRIPTION)


def test_schema_at_40_columns_stacks_without_breaking_words_and_toolbar_keeps_its_mode(shell, sandbox) -> None:
    term = shell(sandbox.url, sandbox.token, rows=80, cols=40)
    screen = term.run("model schema rshell/pixels")
    assert all(len(line) <= 40 for line in screen.splitlines())
    assert _words_whole(screen, DESCRIPTION)
    assert _words_whole(screen, "Text the picture is derived from")
    assert "…" not in screen
    assert term.toolbar().rstrip().endswith("emacs")


def test_errors_and_json_are_coloured_unless_no_color(shell, sandbox) -> None:
    term = shell(sandbox.url, sandbox.token)
    term.run("show nothing_here")
    term.run("x = run rshell/echo text=hi --json")
    shown = term.transcript.decode(errors="replace")
    assert "\x1b[1;31merror:\x1b[0m undefined variable" in shown
    assert '\x1b[1;34m"status"\x1b[0m' in shown and '\x1b[32m"succeeded"\x1b[0m' in shown
    # on the screen: the default background and only the ANSI colours 1-6 (or the default
    # foreground) — no black, white or grey that would vanish on a light or a dark background
    rows = [term.screen.buffer[y] for y in range(term.screen.lines - 1)]  # the toolbar has its own
    used = {(char.fg, char.bg) for row in rows for char in row.values() if char.data.strip()}
    readable = {"default", "red", "green", "brown", "blue", "magenta", "cyan"}
    assert {fg for fg, _ in used} <= readable and {bg for _, bg in used} == {"default"}, used
    assert {"blue", "green"} <= {fg for fg, _ in used}  # the JSON keys and strings, in view
    plain = shell(sandbox.url, sandbox.token, NO_COLOR="1")
    plain.run("show nothing_here")
    plain.run("y = run rshell/echo text=hi --json")
    text = plain.transcript.decode(errors="replace")
    assert "error: undefined variable" in text and "\x1b[1;31m" not in text and "\x1b[1;34m" not in text


# 13. typing while a dead server is retried ---------------------------------------------


def test_text_typed_during_retries_is_not_glued_to_the_messages(shell) -> None:
    term = shell()  # a closed port: every request fails to connect and is retried
    term.send("model list\r")
    # the notice is the spinner's line, rewritten when the one quick retry ends: read the bytes
    term.wait_until(lambda: b"retrying once in" in term.transcript, "the retry notice")
    term.send("typed")
    term.wait_until(lambda: term.cursor_line() == PROMPT + "typed", "the typed text at the next prompt", 60)
    lines = term.text().splitlines()
    assert [line for line in lines if "typed" in line] == [PROMPT + "typed"], term.text()
    assert any(line.startswith("error: ") for line in lines)


# 4. preview and open ------------------------------------------------------------------

HALF_BLOCK = "▀"


def test_run_of_an_image_model_hints_and_preview_draws_half_blocks(shell, sandbox, dirs) -> None:
    term = shell(sandbox.url, sandbox.token)
    screen = term.run("img = run rshell/pixels prompt=fox")
    assert "preview _ draws it here" in screen
    term.clear()
    screen = term.run("preview img")
    drawn = [line for line in screen.splitlines() if HALF_BLOCK in line]
    assert len(drawn) >= 4, screen  # a picture, several rows of half-blocks
    shown = term.transcript.decode(errors="replace")
    assert re.search(r"\x1b\[(38|48);5;\d+;(38|48);5;\d+m" + HALF_BLOCK, shown)  # 256 colours, upper and lower
    assert "error" not in screen


def test_set_preview_auto_draws_after_the_run_and_a_saved_file_previews(shell, sandbox, dirs) -> None:
    term = shell(sandbox.url, sandbox.token)
    term.run("set preview auto")
    term.clear()
    screen = term.run("run rshell/pixels prompt=cat --save --output-directory saved")
    assert sum(HALF_BLOCK in line for line in screen.splitlines()) >= 4, screen
    saved = next((dirs["work"] / "saved").iterdir())
    term.clear()
    screen = term.run(f"preview saved/{saved.name}")
    assert sum(HALF_BLOCK in line for line in screen.splitlines()) >= 4, screen


def test_preview_refuses_what_is_not_an_image(shell, sandbox, dirs) -> None:
    (dirs["work"] / "notes.png").write_text("\x1b]0;owned\x07 not a picture")
    term = shell(sandbox.url, sandbox.token)
    screen = term.run("preview notes.png")
    assert "error: notes.png: not an image" in screen
    screen = term.run("preview nowhere.png")
    assert "error: no such file or result: nowhere.png" in screen
    term.run("t = run rshell/echo text=hi")
    screen = term.run("preview t")
    assert "error: 't' holds no image or file URL" in screen
    assert "owned" not in term.transcript.decode(errors="replace")  # its bytes never reached the terminal


def test_open_prints_the_path_without_a_viewer(shell, sandbox, dirs) -> None:
    term = shell(sandbox.url, sandbox.token)
    term.run("img = run rshell/pixels prompt=owl")
    term.clear()
    screen = term.run("open img")
    assert "no system viewer here" in screen
    path = next(line.strip() for line in screen.splitlines() if line.strip().endswith(".png"))
    assert Path(path).read_bytes().startswith(b"\x89PNG")
    assert str(dirs["cache"]) in path


def test_open_hands_the_file_to_xdg_open_on_a_desktop(shell, sandbox, dirs, tmp_path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    opened = tmp_path / "opened.txt"
    viewer = bin_dir / "xdg-open"
    viewer.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> {opened}\n')
    viewer.chmod(0o755)
    import os

    term = shell(sandbox.url, sandbox.token, DISPLAY=":0", PATH=f"{bin_dir}:{os.environ['PATH']}")
    term.run("img = run rshell/pixels prompt=owl")
    screen = term.run("open img.output[0]")
    assert "opened " in screen
    term.wait_until(opened.exists, "the viewer to be called")
    path = Path(opened.read_text().strip())
    assert path.read_bytes().startswith(b"\x89PNG") and str(dirs["cache"]) in str(path)
