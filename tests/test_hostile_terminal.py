"""Issue 9 item 4: nothing a server sends drives the terminal, bidirectional controls
and C1 (U+009B, a one-character CSI) included, in human views and in JSON on a TTY.

The end-to-end tests run `python -m rshell` in a real pseudo-terminal against
tests/hostile_server.py; the unit tests cover each human view on its own.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pexpect
import pytest
from hostile_server import HostileServer, model, prediction, reply_json, rshell_env

from rshell.completion.engine import Completion
from rshell.completion.oneshot import _whole_word
from rshell.rendering.output import Output
from rshell.rendering.progress import Progress
from rshell.rendering.sanitize import escape_json, neutralise
from rshell.repl.completer import to_prompt_toolkit
from rshell.repl.prompt import toolbar
from rshell.session.state import Session

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
HOSTILE = f"evil{BIDI}\u009b31m\x1b]0;owned\x07\x1b[2J\x7fdone"
OBEYED = ["\x1b", "\x07", "\u009b", "\x7f", *BIDI]  # what a terminal would act on


def _scenario(server: HostileServer) -> None:
    server.route("GET /v1/models/hostile/model", reply_json(model()))
    running = prediction("p1", status="processing", logs=f"log {HOSTILE}\n")
    server.route("POST /v1/models/hostile/model/predictions", reply_json(running, 201))
    done = prediction("p1", output=f"out {HOSTILE}", logs=f"log {HOSTILE}\nmore {HOSTILE}\n")
    server.route("GET /v1/predictions/p1", reply_json(done))


def _on_a_terminal(server: HostileServer, tmp_path: Path, *args: str) -> str:
    env = rshell_env(server, tmp_path)
    child = pexpect.spawn(sys.executable, ["-m", "rshell", *args], env=env, cwd=str(tmp_path), dimensions=(40, 200))
    child.expect(pexpect.EOF, timeout=60)
    child.close()
    assert child.exitstatus == 0, child.before
    return child.before.decode("utf-8")


def _without_own_colours(text: str) -> str:
    """`text` less rshell's own colour escapes (rendering.colour's roles, and the reset)."""
    import re

    from rshell.rendering.colour import ROLES

    return re.sub("|".join(re.escape(f"\x1b[{code}m") for code in [*ROLES.values(), "0"]), "", text)


def _assert_inert(text: str) -> None:
    """Nothing a terminal obeys but rshell's own colours."""
    assert [c for c in OBEYED if c in _without_own_colours(text)] == []


def test_human_view_on_a_terminal_shows_controls_inert(hostile: HostileServer, tmp_path: Path) -> None:
    _scenario(hostile)
    screen = _on_a_terminal(hostile, tmp_path, "run", "hostile/model", "prompt=x")
    _assert_inert(screen)
    assert "out evil\\u202a" in screen and "\\x9b31m" in screen  # shown, not obeyed


def test_json_on_a_terminal_escapes_c1_and_bidi(hostile: HostileServer, tmp_path: Path) -> None:
    _scenario(hostile)
    screen = _on_a_terminal(hostile, tmp_path, "--json", "run", "hostile/model", "prompt=x")
    _assert_inert(screen)
    plain = _without_own_colours(screen)
    start = plain.index("{")
    data = json.loads(plain[start : plain.rindex("}") + 1])
    assert data["output"] == f"out {HOSTILE}"  # the same data, only spelled inertly


@pytest.mark.parametrize("char", ["\u009b", "\x85", "\x7f", *BIDI])
def test_neutralise_makes_each_control_visible(char: str) -> None:
    shown = neutralise(f"a{char}b")
    assert char not in shown and shown.startswith("a\\") and shown.endswith("b")


def test_neutralise_keeps_ordinary_text() -> None:
    assert neutralise("שלום مرحبا fête\ttab\nline") == "שלום مرحبا fête\ttab\nline"


def test_escape_json_is_the_same_data() -> None:
    text = json.dumps({"k": HOSTILE, HOSTILE: [1]}, ensure_ascii=False)
    escaped = escape_json(text)
    _assert_inert(escaped)
    assert json.loads(escaped) == json.loads(text)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_every_output_channel_is_inert() -> None:
    stdout, stderr = _Tty(), _Tty()
    out = Output(stdout, stderr, json_mode=True)
    from rshell.commands.context import Result
    from rshell.errors import ApiError

    out.result(Result(data={"x": HOSTILE}), in_json=True)
    out.token(HOSTILE)
    out.info(HOSTILE)
    out.log(HOSTILE)
    out.error(ApiError(500, HOSTILE, HOSTILE))
    _assert_inert(stdout.getvalue() + stderr.getvalue())


def test_spinner_status_from_the_api_is_inert() -> None:
    stream = _Tty()
    progress = Progress(stream, enabled=True, label=HOSTILE, width=lambda: 500)
    progress.status = HOSTILE
    progress.draw()
    drawn = stream.getvalue()
    _assert_inert(drawn)
    assert drawn.count("\r") == 1  # still one status line


def test_toolbar_account_and_status_are_inert() -> None:
    session = Session()
    session.last_status = HOSTILE
    text = "".join(fragment[1] for fragment in toolbar(session, HOSTILE, "http://127.0.0.1:1/v1"))
    _assert_inert(text)


def test_completions_of_api_names_are_inert() -> None:
    shown = to_prompt_toolkit(Completion(HOSTILE, 0, meta=HOSTILE), "")
    _assert_inert(str(shown.display) + str(shown.display_meta))
    assert shown.text == HOSTILE  # what is inserted stays what the API named
    word, meta = _whole_word("run ", Completion(f"owner/{HOSTILE}\nx", 0, meta=HOSTILE))
    _assert_inert(word)
    _assert_inert(meta or "")
    assert "\n" not in word and "\t" not in word  # one line per candidate, word and meta apart
