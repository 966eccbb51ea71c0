"""Output: results vs progress, JSON vs text, shared-terminal line discipline."""

from __future__ import annotations

import io
from types import SimpleNamespace

from rshell.commands.context import Context, Result
from rshell.errors import UsageError
from rshell.rendering.output import Output
from rshell.session.state import Session


class Terminal(io.StringIO):
    """A StringIO that says it is a terminal; two of them may be one screen."""

    def __init__(self, screen: list[str] | None = None) -> None:
        super().__init__()
        self.screen = screen if screen is not None else []

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.screen.append(text)
        return super().write(text)


def test_a_stderr_line_ends_streamed_tokens_on_a_shared_terminal() -> None:
    screen: list[str] = []
    out = Output(Terminal(screen), Terminal(screen))
    out.token("once upon")
    out.info("canceled prediction p1")
    out.log("a log line")
    assert "".join(screen) == "once upon\ncanceled prediction p1\na log line\n"


def test_tokens_to_a_file_get_no_extra_newlines_from_progress() -> None:
    stdout, stderr = io.StringIO(), Terminal()
    out = Output(stdout, stderr)
    out.token("once upon")
    out.info("progress")
    assert stdout.getvalue() == "once upon"


def test_results_are_json_off_a_terminal_and_text_on_one() -> None:
    result = Result(data={"output": "hi"}, text="hi")
    piped = io.StringIO()
    Output(piped, io.StringIO()).result(result, in_json=True)
    assert piped.getvalue() == '{\n  "output": "hi"\n}\n'
    screen = Terminal()
    Output(screen, io.StringIO()).result(result, in_json=False)
    assert screen.getvalue() == "hi\n"


def test_one_decision_says_whether_a_result_is_json() -> None:
    """The line's `--json`, then `set json on`, then `rshell --json`/`--no-json`, then the terminal."""

    def wants(stdout: io.StringIO, *, flag: bool = False, option: bool = False, mode: bool | None = None) -> bool:
        session = Session()
        if option:
            session.options["json"] = True
        ctx = Context(session=session, out=Output(stdout, io.StringIO(), json_mode=mode), get_client=None)  # type: ignore[arg-type]
        return ctx.wants_json(SimpleNamespace(values={"json": True} if flag else {}))

    assert wants(io.StringIO()) and not wants(Terminal())
    assert wants(Terminal(), flag=True) and wants(Terminal(), option=True) and wants(Terminal(), mode=True)
    assert not wants(io.StringIO(), mode=False) and wants(io.StringIO(), flag=True, mode=False)


def test_control_sequences_from_models_are_neutralised() -> None:
    screen = Terminal()
    out = Output(screen, screen)
    out.token("\x1b]0;owned\x07red\x1b[31m")
    out.log("\x1b[2Jclear")
    assert "\x1b" not in screen.getvalue() and "\x07" not in screen.getvalue()
    assert "\\x1b]0;owned\\x07red\\x1b[31m" in screen.getvalue()


def test_errors_are_one_or_two_lines() -> None:
    stderr = io.StringIO()
    Output(io.StringIO(), stderr).error(UsageError("unknown input 'promt'", "did you mean 'prompt'?"))
    assert stderr.getvalue() == "error: unknown input 'promt'\ndid you mean 'prompt'?\n"


def test_binding_a_result_with_a_status_sets_the_last_status() -> None:
    session = Session()
    session.bind(None, {"id": "p1", "status": "canceled", "input": {}, "urls": {}})
    assert session.last_status == "canceled"
    session.bind("x", {"username": "alice"})
    assert session.last_status == "canceled" and session.variables["x"]["username"] == "alice"


def test_bound_runs_that_have_not_finished_are_in_flight() -> None:
    session = Session()
    session.bind(None, {"id": "p1", "status": "starting", "input": {}, "urls": {"get": "https://a/v1/predictions/p1"}})
    session.bind("t", {"id": "t1", "status": "processing", "input": {}, "urls": {"get": "https://a/v1/trainings/t1"}})
    assert session.in_flight == {"p1": "prediction", "t1": "training"}
    session.bind(None, {"id": "p1", "status": "succeeded", "input": {}, "urls": {}})
    assert session.in_flight == {"t1": "training"} and session.last_status == "succeeded"
    session.bind(None, {"id": "m", "status": "x"})  # not a run: no id/urls/input shape
    assert session.in_flight == {"t1": "training"}
