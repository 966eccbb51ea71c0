"""The REPL loop driven through a pipe: multi-line input, Ctrl-C, Ctrl-D, exit, history.

The executor here is a recorder with the executor's interface, so these tests pin the
REPL's own behaviour; the pty tests (test_repl_pty.py) run the real thing end to end.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from rshell.client.models import Prediction, Training
from rshell.commands.context import Environment
from rshell.rendering.output import Output
from rshell.repl.app import Repl
from rshell.repl.history import SafeFileHistory
from rshell.session import store
from rshell.session.state import Session

TOKEN = "r8_" + "Z" * 37


TOKEN = "sandbox-token-0123456789abcdef"  # in use, and not r8_-shaped: only the env knows it


class RecordingExecutor:
    """Records the text it is asked to run; `slow` makes a statement hang until cancelled."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()
        self.out = Output(self.stdout, self.stderr)
        self.base_url = "http://127.0.0.1:9/v1"
        self.env = Environment(base_url=self.base_url, secrets=lambda: (TOKEN,))
        self.exit_requested = False
        self.on_statement: Any = None
        self.ran: list[str] = []
        self.cancelled: list[str] = []
        self.started = asyncio.Event()

    async def client(self) -> Any:
        raise AssertionError("the REPL must not need the client here")

    async def account_name(self) -> str | None:
        return "alice"

    async def run_text(self, text: str, *, source: str = "-c", keep_going: bool = False) -> int:
        self.ran.append(text)
        self.started.set()
        if text.strip() == "slow":
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                self.cancelled.append(text)
                raise
        if text.strip() == "exit":
            self.exit_requested = True
        if text.startswith("set editing_mode "):
            self.session.options["editing_mode"] = text.split()[-1]
        if text.startswith("bind "):
            self.session.bind(None, {"id": "p1", "status": text.split()[1]})
        if text.strip() == "boom":
            raise RuntimeError("bug")
        self.session.statements.append(text)
        if self.on_statement is not None:
            self.on_statement(None, 0)
        return 0


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RSHELL_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


async def drive(executor: RecordingExecutor, keys: list[str | float], *, history: Any = None) -> tuple[int, Repl]:
    """Run the REPL, sending each string as typed keys; a float waits that long."""
    from prompt_toolkit.completion import DummyCompleter

    with create_pipe_input() as pipe:
        repl = Repl(executor, completer=DummyCompleter(), history=history, input=pipe, output=DummyOutput())  # type: ignore[arg-type]

        async def typist() -> None:
            for item in keys:
                if isinstance(item, float):
                    await asyncio.sleep(item)
                else:
                    pipe.send_text(item)
                    await asyncio.sleep(0.05)

        typing = asyncio.ensure_future(typist())
        code = await asyncio.wait_for(repl.run(), timeout=20)
        typing.cancel()
        return code, repl


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_statements_run_in_order_and_ctrl_d_leaves() -> None:
    executor = RecordingExecutor(Session())
    code, _ = run(drive(executor, ["vars\r", "status\r", "\x04"]))
    assert code == 0
    assert executor.ran == ["vars", "status"]


def test_enter_on_incomplete_input_continues_the_statement() -> None:
    executor = RecordingExecutor(Session())
    run(drive(executor, ["run a/b text='one\r", "two'\r", "run a/b \\\r", "x=1\r", "\x04"]))
    assert executor.ran == ["run a/b text='one\ntwo'", "run a/b \\\nx=1"]


def test_a_pasted_script_is_one_input_with_all_its_lines() -> None:
    executor = RecordingExecutor(Session())
    paste = "\x1b[200~vars\nstatus\nhelp\x1b[201~"
    run(drive(executor, [paste, "\r", "\x04"]))
    assert executor.ran == ["vars\nstatus\nhelp"]


def test_ctrl_c_while_typing_clears_the_line() -> None:
    executor = RecordingExecutor(Session())
    run(drive(executor, ["run half-typed", "\x03", "vars\r", "\x04"]))
    assert executor.ran == ["vars"]


def test_empty_lines_run_nothing() -> None:
    executor = RecordingExecutor(Session())
    run(drive(executor, ["\r", "   \r", "\x04"]))
    assert executor.ran == []


def test_sigint_while_running_cancels_the_statement_and_returns_to_the_prompt() -> None:
    executor = RecordingExecutor(Session())

    async def scenario() -> tuple[int, Repl]:
        async def interrupter() -> None:
            await executor.started.wait()
            await asyncio.sleep(0.2)
            os.kill(os.getpid(), signal.SIGINT)

        asyncio.ensure_future(interrupter())
        return await drive(executor, ["slow\r", 1.0, "vars\r", "\x04"])

    code, _ = run(scenario())
    assert executor.cancelled == ["slow"]
    assert executor.ran == ["slow", "vars"]
    assert "error: interrupted" in executor.stderr.getvalue()
    assert code == 0


def test_a_crashing_statement_does_not_end_the_shell() -> None:
    executor = RecordingExecutor(Session())
    run(drive(executor, ["boom\r", "vars\r", "\x04"]))
    assert executor.ran == ["boom", "vars"]
    assert "internal error: RuntimeError: bug" in executor.stderr.getvalue()


def test_exit_leaves_at_once_with_nothing_in_flight() -> None:
    executor = RecordingExecutor(Session())
    run(drive(executor, ["exit\r", "vars\r"]))
    assert executor.ran == ["exit"]


def test_exit_with_predictions_in_flight_asks_first() -> None:
    session = Session()
    session.in_flight = {"p1": "prediction", "p2": "prediction"}
    executor = RecordingExecutor(session)
    run(drive(executor, ["exit\r", "n\r", "vars\r", "\x04", "y\r"]))
    assert executor.ran == ["exit", "vars"]
    assert executor.exit_requested is False


def test_leaving_first_asks_the_api_and_forgets_finished_runs() -> None:
    class Api:
        async def predictions_get(self, run_id: str) -> Prediction:
            return Prediction(id=run_id, status="succeeded" if run_id == "done" else "processing")

        async def trainings_get(self, run_id: str) -> Training:
            return Training(id=run_id, status="canceled")

    session = Session()
    session.in_flight = {"done": "prediction", "t1": "training"}
    executor = RecordingExecutor(session)

    async def client() -> Api:
        return Api()

    executor.client = client  # type: ignore[method-assign]
    code, _ = run(drive(executor, ["\x04", "vars\r"]))
    assert code == 0 and executor.ran == []  # both finished: no question, the shell left
    assert session.in_flight == {}

    session.in_flight = {"running": "prediction"}
    run(drive(executor, ["\x04", "n\r", "vars\r", "\x04", "y\r"]))
    assert executor.ran == ["vars"] and session.in_flight == {"running": "prediction"}


def test_ctrl_d_with_a_prediction_in_flight_asks_and_stays_on_no() -> None:
    session = Session()
    session.in_flight = {"p1": "prediction"}
    executor = RecordingExecutor(session)
    run(drive(executor, ["\x04", "\r", "vars\r", "\x04", "yes\r"]))
    assert executor.ran == ["vars"]


def test_session_is_saved_after_each_statement(data_dir: Path) -> None:
    session = Session(name="work")
    executor = RecordingExecutor(session)

    async def scenario() -> None:
        async def check() -> None:
            await executor.started.wait()
            await asyncio.sleep(0.3)
            saved.append(store.load_session("work").statements)

        saved: list[list[str]] = []
        asyncio.ensure_future(check())
        await drive(executor, ["vars\r", 0.5, "\x04"])
        assert saved == [["vars"]]

    run(scenario())


def test_the_session_the_shell_saves_never_holds_the_token(data_dir: Path) -> None:
    """The shell saves through the executor's environment, which knows the tokens in use:
    a bound result that holds one is stored redacted (it once lost that and wrote it)."""
    session = Session(name="work")
    session.bind("y", {"input": {"text": f"my key is {TOKEN}"}, "status": "succeeded"})
    executor = RecordingExecutor(session)
    run(drive(executor, ["vars\r", 0.5, "\x04"]))
    folder = store.session_path("work", session.scope).parent
    text = b"".join(p.read_bytes() for p in folder.iterdir()).decode("latin-1")
    assert "y" in store.load_session("work", session.scope).variables
    assert TOKEN not in text and TOKEN.lower() not in text.lower()


def test_editing_mode_follows_the_session_option() -> None:
    executor = RecordingExecutor(Session())

    async def scenario() -> list[str]:
        modes: list[str] = []
        with create_pipe_input() as pipe:
            from prompt_toolkit.completion import DummyCompleter

            repl = Repl(executor, completer=DummyCompleter(), input=pipe, output=DummyOutput())  # type: ignore[arg-type]
            original = repl.prompt.prompt_async

            async def spy(*args: Any, **kwargs: Any) -> str:
                modes.append(kwargs["editing_mode"].value)
                return await original(*args, **kwargs)

            repl.prompt.prompt_async = spy  # type: ignore[method-assign]
            pipe.send_text("set editing_mode vi\r")
            await asyncio.sleep(0.2)
            pipe.send_text("\x04")
            await asyncio.wait_for(repl.run(), timeout=10)
        return modes

    assert run(scenario()) == ["EMACS", "VI"]


def test_secret_lines_stay_out_of_history(data_dir: Path) -> None:
    executor = RecordingExecutor(Session())
    history = SafeFileHistory()
    run(drive(executor, ["vars\r", f"auth login {TOKEN}\r", "\x04"], history=history))
    assert executor.ran == ["vars", f"auth login {TOKEN}"]
    assert store.read_history() == ["vars"]
    assert TOKEN not in store.history_path().read_text()
    assert list(history.get_strings()) == ["vars"]


def test_toolbar_and_prompt_text() -> None:
    from rshell.repl import prompt

    session = Session(name="work")
    session.in_flight = {"p1": "prediction", "p2": "prediction"}
    session.last_status = "canceled"
    session.options["editing_mode"] = "vi"
    bar = "".join(text for _, text in prompt.toolbar(session, "alice", "https://api.replicate.com/v1"))
    assert bar == " alice @ api.replicate.com | 2 in flight | last: canceled | vi "
    styles = {text: style for style, text in prompt.toolbar(session, None, "http://127.0.0.1:8000")}
    assert styles["canceled"].endswith(".failed") and styles["2 in flight"].endswith(".busy")
    assert "".join(t for _, t in prompt.prompt_message(session)) == "rshell[work]> "
    assert "".join(t for _, t in prompt.prompt_message(Session())) == "rshell> "
    assert prompt.leave_question(1) == "1 prediction in flight; leave anyway? [y/N] "
    assert prompt.host_of("http://127.0.0.1:8000/v1") == "127.0.0.1:8000"
