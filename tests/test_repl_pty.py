"""End to end: `python -m rshell` in a real pseudo-terminal, read off a rendered screen.

The child gets a pty of fixed size; pyte plays the terminal (it renders the byte
stream and answers cursor-position requests, as a real terminal does, so
prompt-toolkit knows its height and shows the bottom toolbar). Data, config and cache
directories are temporary; the API is the local sandbox on 127.0.0.1 (or, for the
tests that need no API, a closed port).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pexpect
import pyte
import pytest

ROWS, COLS = 40, 140
PYTHON = sys.executable
PROMPT = "rshell> "


class _Screen(pyte.Screen):
    """A pyte screen that answers the program's queries (cursor position) like a terminal."""

    def __init__(self, columns: int, lines: int, reply: Callable[[str], None]) -> None:
        super().__init__(columns, lines)
        self._reply = reply

    def write_process_input(self, data: str) -> None:
        self._reply(data)


class Terminal:
    """One rshell process in a pty, with helpers that wait for what the screen shows."""

    def __init__(
        self, args: list[str], env: dict[str, str], cwd: Path, prompt: str = PROMPT, rows: int = ROWS, cols: int = COLS
    ) -> None:
        self.prompt = prompt
        env = {**env, "COLUMNS": str(cols), "LINES": str(rows)}  # what the pty says, whatever pytest's env holds
        self.child = pexpect.spawn(PYTHON, ["-m", "rshell", *args], env=env, cwd=str(cwd), dimensions=(rows, cols))
        self.screen = _Screen(cols, rows, self.child.send)
        self.stream = pyte.ByteStream(self.screen)
        self.transcript = b""

    # reading -------------------------------------------------------------------
    def pump(self, seconds: float = 0.1) -> None:
        end = time.monotonic() + seconds
        while True:
            try:
                data = self.child.read_nonblocking(65536, timeout=0.05)
            except pexpect.TIMEOUT:
                data = b""
            except pexpect.EOF:
                return
            if data:
                self.transcript += data
                self.stream.feed(data)
            if time.monotonic() >= end:
                return

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display).rstrip()

    def cursor_line(self) -> str:
        return self.screen.display[self.screen.cursor.y].rstrip()

    def wait_until(self, check: Callable[[], Any], what: str, timeout: float = 20) -> Any:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump(0.1)
            found = check()
            if found:
                return found
        raise AssertionError(f"timed out waiting for {what}; screen:\n{self.text()}")

    def wait_for(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        regex = re.compile(pattern, re.M)
        return self.wait_until(lambda: regex.search(self.text()), repr(pattern), timeout)

    def wait_prompt(self, timeout: float = 30) -> None:
        """Until an empty prompt is where the cursor is and the toolbar is drawn."""
        self.wait_until(
            lambda: (
                self.cursor_line() == self.prompt.rstrip()
                and self.screen.cursor.x == len(self.prompt)
                and " in flight" in self.toolbar()
            ),
            "the prompt",
            timeout,
        )

    def toolbar(self) -> str:
        return self.screen.display[-1]

    # writing -------------------------------------------------------------------
    def send(self, keys: str) -> None:
        self.child.send(keys)

    def run(self, line: str, timeout: float = 30) -> str:
        """Type a line, press Enter, wait for the next prompt; the screen after it."""
        self.send(line)
        self.wait_until(lambda: line.splitlines()[-1] in self.text(), f"echo of {line!r}", 10)
        self.send("\r")
        self.pump(0.2)
        self.wait_prompt(timeout)
        return self.text()

    def clear(self) -> None:
        """Ctrl-L: a clean screen, so the next checks see only what follows."""
        self.send("\x0c")
        self.wait_until(lambda: self.text().startswith(self.prompt.rstrip()), "a cleared screen", 10)

    def wait_exit(self, timeout: float = 15) -> int:
        self.wait_until(lambda: not self.child.isalive(), "the process to exit", timeout)
        self.child.close()
        return self.child.exitstatus if self.child.exitstatus is not None else -(self.child.signalstatus or 0)

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)


def base_env(dirs: dict[str, Path], base_url: str, token: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLICATE_", "RSHELL_", "XDG_", "PROMPT_TOOLKIT"))}
    env.update(
        TERM="xterm",
        LANG="C.UTF-8",
        HOME=str(dirs["home"]),
        RSHELL_DATA_DIR=str(dirs["data"]),
        XDG_DATA_HOME=str(dirs["data"]),
        XDG_CONFIG_HOME=str(dirs["config"]),
        XDG_CACHE_HOME=str(dirs["cache"]),
        REPLICATE_BASE_URL=base_url,
        REPLICATE_API_TOKEN=token,
        NO_PROXY="127.0.0.1,localhost",
        COLUMNS=str(COLS),
        LINES=str(ROWS),
    )
    return env


CLOSED_PORT = "http://127.0.0.1:9/v1"  # nothing listens: for what needs no API


@contextlib.contextmanager
def shells(
    dirs: dict[str, Path], url: str = CLOSED_PORT, token: str = "r8_fake-pty", wait: float = 30
) -> Iterator[Callable[..., Terminal]]:
    """Start rshell processes in ptys, each closed at the end. `start(*args, url=…,
    token=…, rows=…, cols=…, prompt=…, **env)` overrides the defaults per shell."""
    started: list[Terminal] = []

    def start(
        *args: str,
        url: str = url,
        token: str = token,
        rows: int = ROWS,
        cols: int = COLS,
        prompt: str = PROMPT,
        **env: str,
    ) -> Terminal:
        term = Terminal(list(args), {**base_env(dirs, url, token), **env}, dirs["work"], prompt, rows, cols)
        started.append(term)
        term.wait_prompt(wait)
        return term

    try:
        yield start
    finally:
        for term in started:
            term.close()


@pytest.fixture
def offline(dirs: dict[str, Path]) -> Iterator[Callable[..., Terminal]]:
    """rshell against a closed port: for what needs no API (builtins, editing, history)."""
    with shells(dirs, token="r8_fake-offline") as start:
        yield start


# -- without an API ---------------------------------------------------------------


def test_prompt_toolbar_and_ctrl_d(offline: Callable[..., Terminal]) -> None:
    term = offline()
    toolbar = term.screen.display[-1]
    assert "127.0.0.1:9" in toolbar and "0 in flight" in toolbar and "emacs" in toolbar
    term.send("\x04")
    assert term.wait_exit() == 0


def test_multi_line_statement_and_ctrl_c_clearing(offline: Callable[..., Terminal]) -> None:
    term = offline()
    term.send("alias greet='run rshell/echo \r")
    term.wait_for(r"^ *\.\.\. *$")
    term.send("text=hi'\r")
    term.wait_prompt()
    term.send("half typed line")
    term.wait_for("half typed line")
    term.send("\x03")
    term.wait_prompt()
    screen = term.run("alias")
    assert "greet" in screen and "run rshell/echo" in screen
    term.send("\x04")
    assert term.wait_exit() == 0


def test_errors_never_end_the_shell(offline: Callable[..., Terminal]) -> None:
    term = offline()
    screen = term.run("frobnicate now")
    assert "error: unknown command 'frobnicate'" in screen
    screen = term.run("show nothing_here")
    assert "undefined variable 'nothing_here'" in screen
    term.send("\x04")
    assert term.wait_exit() == 0


def test_history_persists_and_secrets_stay_out(offline: Callable[..., Terminal], dirs: dict[str, Path]) -> None:
    term = offline()
    term.run("set json on")
    term.run("auth login r8_fake-topsecret", timeout=60)
    term.send("exit\r")
    assert term.wait_exit() == 0
    history = (dirs["data"] / "history").read_text()
    assert "set json on" in history and "TOPSECRET" not in history

    again = offline()
    again.send("set js")  # suggestion from history, accepted with the right arrow
    again.wait_until(
        lambda: again.cursor_line() == "rshell> set json on" and again.screen.cursor.x == len("rshell> set js"),
        "the suggestion",
    )
    again.send("\x1b[C")
    again.wait_until(lambda: again.screen.cursor.x == len("rshell> set json on"), "the accepted suggestion")
    again.send("\x03")
    again.wait_prompt()
    again.send("\x1b[A")  # up: the previous session's line
    again.wait_for(r"rshell> exit")
    again.send("\x1b[A")
    again.wait_for(r"rshell> set json on")
    again.send("\x03")
    again.wait_prompt()
    again.send("\x12json")  # Ctrl-R search
    again.wait_for(r"set json on")
    again.send("\x03\x03")
    again.wait_prompt()
    screen = again.run("history")
    assert "set json on" in screen and "TOPSECRET" not in screen
    again.send("\x04")
    assert again.wait_exit() == 0
    for path in dirs["data"].rglob("*"):
        if path.is_file():
            assert "TOPSECRET" not in path.read_text(errors="replace"), path


def test_vi_mode_is_switched_live(offline: Callable[..., Terminal]) -> None:
    term = offline()
    term.run("set editing_mode vi")
    assert "| vi" in term.screen.display[-1]
    term.send("vars xx")
    term.wait_for("vars xx")
    term.send("\x1b")  # to normal mode
    term.pump(0.3)
    term.send("0dw")  # delete the first word: vi keys are live
    term.wait_until(lambda: term.cursor_line() == "rshell> xx", "vi deletion")
    term.send("\x03")
    term.wait_prompt()
    term.send("\x04")
    assert term.wait_exit() == 0


# -- against the live sandbox ------------------------------------------------------


@pytest.fixture
def live(sandbox: Any, dirs: dict[str, Path]) -> Iterator[Callable[..., Terminal]]:
    """rshell with REPLICATE_BASE_URL pointing at a sandbox on 127.0.0.1."""
    with shells(dirs, sandbox.url, sandbox.token) as start:
        yield start


def api_get(sandbox: Any, path: str) -> Any:
    import httpx

    response = httpx.get(
        sandbox.url.rstrip("/") + path, headers={"Authorization": f"Bearer {sandbox.token}"}, timeout=10
    )
    response.raise_for_status()
    return response.json()


def test_toolbar_shows_the_account_from_the_api(live: Callable[..., Terminal], sandbox: Any) -> None:
    term = live()
    account = api_get(sandbox, "/account")["username"]
    term.wait_until(lambda: account in term.toolbar(), "the account in the toolbar")
    assert sandbox.url.split("//")[1].split("/")[0] in term.toolbar()
    term.send("\x04")
    assert term.wait_exit() == 0


def test_tab_completes_model_names_from_the_api(live: Callable[..., Terminal]) -> None:
    term = live()
    term.send("run rshell/")
    term.wait_for("rshell/")
    term.send("\t")
    for name in ("rshell/echo", "rshell/pixels", "rshell/tinylm", "rshell/upscale"):
        term.wait_for(re.escape(name))
    term.send("\x03")
    term.wait_prompt()
    term.send("run rshell/e")
    term.wait_for(r"rshell/echo +Echoes its text")  # the menu opens while typing
    term.send("\t")  # Tab picks the first, best-ranked entry
    term.wait_until(
        lambda: term.cursor_line().startswith("rshell> run rshell/echo"), "rshell/echo completed in the line"
    )
    term.send("\x03\x04")
    assert term.wait_exit() == 0


def test_tab_after_a_model_shows_its_input_keys_with_descriptions(live: Callable[..., Terminal]) -> None:
    term = live()
    term.send("run rshell/echo ")
    term.wait_for("rshell/echo")
    term.send("\t")
    menu = term.wait_for(
        r"^ +text +string.*The text to echo\n"
        r" +times +integer.*How many times to repeat it\n"
        r" +upper +boolean.*Upper-case the text"
    )
    assert menu  # the keys in the schema's x-order, each with its type and description
    term.wait_until(lambda: term.cursor_line().startswith("rshell> run rshell/echo text="), "the first key inserted")
    term.send("\x03")
    term.wait_prompt()
    term.send("run rshell/echo text=hi ")  # a key already given is left out
    term.send("\t")
    term.wait_for(r"^ +times +integer.*How many times")
    menu_text = term.text().split("text=hi", 1)[1]
    assert "The text to echo" not in menu_text
    term.send("\x03\x04")
    assert term.wait_exit() == 0


def test_named_results_flow_into_later_commands(live: Callable[..., Terminal]) -> None:
    term = live()
    term.run("x = run rshell/echo text=hello times=2")
    term.clear()
    screen = term.run("show x.output")
    assert "hello hello" in screen
    term.clear()
    screen = term.run("y = run rshell/echo text={{x.output}} upper=true")
    assert "HELLO HELLO" in screen
    term.clear()
    screen = term.run("show $y.status")
    assert "succeeded" in screen
    assert "last: succeeded" in term.toolbar()
    term.send("\x04")
    assert term.wait_exit() == 0


def test_named_results_persist_in_a_named_session(live: Callable[..., Terminal]) -> None:
    first = live("--session", "work", prompt="rshell[work]> ")
    first.run("keep = run rshell/echo text=persisted")
    first.send("\x04")
    assert first.wait_exit() == 0

    other = live()  # the default session does not see it
    assert "undefined variable 'keep'" in other.run("show keep.output")
    other.send("\x04")
    assert other.wait_exit() == 0

    second = live("--session", "work", prompt="rshell[work]> ")
    screen = second.run("show keep.output")
    assert "persisted" in screen.split("show keep.output", 1)[1]
    second.send("\x04")
    assert second.wait_exit() == 0


def test_save_then_replay_the_script(live: Callable[..., Terminal], sandbox: Any, dirs: dict[str, Path]) -> None:
    term = live()
    term.run("a = run rshell/echo text=alpha times=3")
    term.run('b = run rshell/echo text="{{a.output}}" upper=true')
    term.run("frobnicate")  # a failing statement is not saved
    screen = term.run("save session.rsh")
    assert "error" not in screen.split("save session.rsh", 1)[1]
    shown = term.run("show b.output").split("show b.output", 1)[1]
    assert "ALPHA ALPHA ALPHA" in shown
    term.send("\x04")
    assert term.wait_exit() == 0

    script = (dirs["work"] / "session.rsh").read_text()
    assert "frobnicate" not in script and "rshell/echo" in script
    replay = pexpect.spawn(
        PYTHON,
        ["-m", "rshell", "--json", "session.rsh"],
        env={**base_env(dirs, sandbox.url, sandbox.token), "NO_COLOR": "1"},  # plain JSON to parse
        cwd=str(dirs["work"]),
        timeout=60,
    )
    output = replay.read().decode()
    replay.close()
    assert replay.exitstatus == 0, output
    results = [json.loads(chunk) for chunk in _json_documents(output)]
    assert [r["output"] for r in results] == ["alpha alpha alpha", "ALPHA ALPHA ALPHA"]
    assert all(r["status"] == "succeeded" for r in results)


def _json_documents(text: str) -> list[str]:
    """The top-level JSON values printed one after another (pretty-printed)."""
    decoder = json.JSONDecoder()
    found, index = [], 0
    text = text.replace("\r\n", "\n")
    while True:
        start = text.find("{", index)
        if start < 0:
            return found
        try:
            _, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            index = start + 1
            continue
        found.append(text[start:end])
        index = end


def test_ctrl_c_cancels_a_running_prediction_on_the_server(live: Callable[..., Terminal], sandbox: Any) -> None:
    term = live()
    term.send("story = run rshell/tinylm prompt=the max_tokens=512 temperature=1 seed=7\r")
    # Words after the model's first log line: the statement is running (the typed line may
    # wrap on screen, so "seed=7" of the command is no marker; a ^C sent before the shell
    # took the line would be type-ahead for the next prompt, not an interrupt).
    started = "Using seed: 7"
    term.wait_until(
        lambda: started in term.text() and len(term.text().split(started, 1)[1].split()) > 5, "streamed words", 30
    )
    term.send("\x03")
    term.wait_prompt(30)
    screen = term.text()
    assert "cancel" in screen.lower()
    predictions = api_get(sandbox, "/predictions")["results"]
    story = [p for p in predictions if p.get("model") == "rshell/tinylm"]
    assert story, predictions
    term.wait_until(
        lambda: api_get(sandbox, f"/predictions/{story[0]['id']}")["status"] == "canceled", "the server-side cancel", 15
    )
    term.clear()
    screen = term.run("show _.status")
    assert "canceled" in screen
    term.send("\x04")
    assert term.wait_exit() == 0


def test_a_pasted_script_runs_its_statements_in_order(live: Callable[..., Terminal]) -> None:
    term = live()
    script = "first = run rshell/echo text=one\nsecond = run rshell/echo text={{first.output}}-two\nshow second.output"
    term.send("\x1b[200~" + script + "\x1b[201~")  # bracketed paste, as terminals send it
    term.wait_for(r"^ *\.\.\. show second.output")
    term.send("\r")
    term.pump(0.3)
    term.wait_prompt()
    assert "one-two" in term.text().split("show second.output", 1)[1]
    term.send("\x04")
    assert term.wait_exit() == 0


def test_leaving_with_a_no_wait_prediction_running_asks_first(live: Callable[..., Terminal], sandbox: Any) -> None:
    term = live()
    term.run("bg = run rshell/tinylm prompt=the max_tokens=512 temperature=1 seed=3 --no-wait")
    term.wait_until(lambda: "1 in flight" in term.toolbar(), "the toolbar to count it", 10)
    term.send("\x04")
    term.wait_for(r"1 prediction in flight; leave anyway\? \[y/N\]")
    term.send("n\r")
    term.wait_prompt()
    bg = [p for p in api_get(sandbox, "/predictions")["results"] if p.get("model") == "rshell/tinylm"][0]
    term.run(f"prediction cancel {bg['id']}")
    term.wait_until(lambda: " 0 in flight" in term.toolbar(), "the canceled run to leave the count", 10)
    term.send("\x04")
    assert term.wait_exit() == 0  # nothing in flight any more: no question


def test_wait_rebinds_a_no_wait_run_and_vars_says_snapshot_until_then(live: Callable[..., Terminal]) -> None:
    term = live()
    term.run("bg = run rshell/echo text=later --no-wait")
    term.clear()
    screen = term.run("vars")
    assert re.search(r"bg\s+prediction\s+starting .*\(snapshot, status starting — `wait bg`\)", screen), screen
    term.clear()
    screen = term.run("wait bg")
    assert "later" in screen and "succeeded" in screen
    term.clear()
    screen = term.run("vars")
    assert re.search(r"bg\s+prediction\s+succeeded\s+later", screen) and "snapshot" not in screen, screen
    term.send("\x04")
    assert term.wait_exit() == 0
