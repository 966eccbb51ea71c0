"""Regressions found reviewing the day's merges: each test failed before its fix."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.completion import DummyCompleter
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rsh import rsh

from rshell.commands.context import Environment
from rshell.executor import Executor
from rshell.rendering.output import Output
from rshell.repl.app import Repl
from rshell.session import store
from rshell.session.state import Session

# a token of no Replicate shape: only the known-secrets list can keep it out of files
CUSTOM_TOKEN = "sandbox-secret-" + "q7" * 12


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RSHELL_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


async def _repl_session(lines: list[str]) -> Executor:
    """The real executor in the REPL, fed `lines` then Ctrl-D; the REPL saves the session."""
    executor = Executor(
        Session(name="work"),
        Output(io.StringIO(), io.StringIO()),
        None,
        interactive=True,
        env=Environment(secrets=lambda: (CUSTOM_TOKEN,)),
    )
    with create_pipe_input() as pipe:
        repl = Repl(executor, completer=DummyCompleter(), input=pipe, output=DummyOutput())  # type: ignore[arg-type]
        runs: list[Any] = []
        executor_run = executor.run_text

        async def counted(text: str, **kwargs: Any) -> int:
            code = await executor_run(text, **kwargs)
            runs.append(text)
            return code

        executor.run_text = counted  # type: ignore[method-assign]
        task = asyncio.ensure_future(repl.run())
        for line in lines:
            before = len(runs)
            pipe.send_text(line + "\r")
            while len(runs) == before:  # the statement ran (an event, not a clock)
                await asyncio.sleep(0.01)
        pipe.send_text("\x04")
        await asyncio.wait_for(task, timeout=20)
    await executor.aclose()
    return executor


def test_repl_session_file_keeps_out_a_token_a_statement_held(data_dir: Path) -> None:
    executor = asyncio.run(_repl_session([f"!echo {CUSTOM_TOKEN}", "!echo harmless"]))
    assert f"!echo {CUSTOM_TOKEN}" in executor.session.statements  # it ran and was kept in memory
    folder = store.session_path("work").parent
    saved = b"".join(p.read_bytes() for p in folder.iterdir()).decode("latin-1")
    assert "!echo harmless" in store.load_session("work").statements  # the database was written by this run
    assert CUSTOM_TOKEN not in saved


def test_a_path_a_server_put_in_a_result_is_not_opened(tmp_path: Path) -> None:
    """`prediction logs ID` binds the server's text (as `_.output` names a text model's):
    `open _` must not hand a local file it names to the system viewer (`preview _`
    reads EXPR the same way). A path the user types is still opened."""
    secret_file = tmp_path / "id_rsa"
    secret_file.write_text("PRIVATE")
    session = Session()
    session.last = str(secret_file)
    outcome = rsh("open _", session=session)
    assert outcome.code == 2, outcome
    assert "holds no image or file URL" in outcome.stderr
    assert str(secret_file) not in outcome.stdout
    typed = rsh(f"open {secret_file}", session=session)
    assert typed.code == 0 and str(secret_file) in typed.stdout


@pytest.mark.parametrize(
    "line",
    ["prediction logs ''", "prediction wait x ''", "prediction save ''", "rerun ''", "prediction cancel ''"],
)
def test_an_empty_id_is_a_usage_error_before_any_request(line: str) -> None:
    """`''` as an id made `GET /v1/predictions/` (the list, or a redirect to it):
    "API error 307" after a request. Exit 2 and one line, nothing sent."""
    import respx

    with respx.mock(base_url="http://127.0.0.1:9/v1", assert_all_called=False) as api:
        api.route().respond(307, headers={"Location": "http://127.0.0.1:9/v1/predictions"})
        outcome = rsh(line, api=("http://127.0.0.1:9/v1", "r8_" + "x" * 37))
        assert not api.calls, line  # inside: respx forgets its calls on leaving
    assert outcome.code == 2, outcome
    assert outcome.stderr.startswith("error: ") and "empty" in outcome.stderr
    assert "Traceback" not in outcome.stderr


@pytest.mark.parametrize("line", ["run a/b x=1 --separator ''", "rerun x a=1 --separator ''", "set separator ''"])
def test_an_empty_separator_is_a_usage_error_before_any_request(line: str) -> None:
    """`--separator ''` was "internal error: ValueError: empty separator", after the
    model's look-up had been sent."""
    import respx

    with respx.mock(base_url="http://127.0.0.1:9/v1", assert_all_called=False) as api:
        api.route().respond(404)
        outcome = rsh(line, api=("http://127.0.0.1:9/v1", "r8_" + "x" * 37))
        assert not api.calls, line
    assert outcome.code == 2, outcome
    assert "separator" in outcome.stderr and "internal error" not in outcome.stderr


def test_repl_history_keeps_out_a_token_of_no_replicate_shape(data_dir: Path) -> None:
    """An older 40-hex-digit token, or any the entry point knows, is as secret as an r8_ one."""
    asyncio.run(_repl_session([f"!echo {CUSTOM_TOKEN}", "!echo harmless"]))
    written = store.history_path().read_text()
    assert "!echo harmless" in written
    assert CUSTOM_TOKEN not in written


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("rows.csv", b"a,b\n1,2\n3,\xff\n"),  # not UTF-8 in a later row
        ("rows.jsonl", b"\xff{}\n"),  # not UTF-8 where the kind is sniffed
        ("rows.json", b"[" * 100_000),  # nested past the decoder's recursion limit
        ("rows.jsonl", b'{"a": ' + b"[" * 100_000 + b"\n"),
    ],
)
def test_batch_rows_that_cannot_be_read_are_one_line_usage_errors(name: str, content: bytes, tmp_path: Path) -> None:
    """Were "internal error: UnicodeDecodeError" and "RecursionError"."""
    from rshell.commands.batch_rows import open_rows
    from rshell.errors import UsageError

    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UsageError) as caught:
        list(open_rows(str(path)).rows())
    assert str(path) in caught.value.message and "\n" not in caught.value.message


@pytest.mark.parametrize("url", ["https://", "http:///a.png", "https://:80/x.png"])
def test_open_of_a_url_without_a_host_is_a_usage_error_before_any_request(url: str) -> None:
    """Was four retries of "cannot reach : Request URL is missing…", then exit 1."""
    import respx

    with respx.mock(assert_all_called=False) as api:
        api.route().respond(200)
        outcome = rsh(f"open {url}", api=("http://127.0.0.1:9/v1", "r8_" + "x" * 37))
        assert not api.calls
    assert outcome.code == 2, outcome
    assert outcome.stderr.startswith("error: ") and "host" in outcome.stderr


def test_a_pager_that_is_not_installed_leaves_the_result_to_be_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    """`PAGER=most` where most is not installed: sh said "not found" and the result was
    never shown (page() said it had paged it)."""
    from rshell.rendering import pager

    monkeypatch.setenv("PAGER", "rshell-no-such-pager-here --flag")
    assert pager.page("a tall result\n", io.StringIO()) is False


def test_wait_underscore_rebinds_the_last_result_and_makes_no_variable_named_underscore() -> None:
    """`wait _` stored `variables["_"]`, which `vars` then listed as a named result
    (and the session file kept) beside the real `_`."""
    import respx
    from hostile_server import prediction

    session = Session()
    session.last = prediction("p1", status="processing")
    with respx.mock(base_url="http://127.0.0.1:9/v1", assert_all_called=False) as api:
        api.get("/predictions/p1").respond(200, json=prediction("p1"))
        api.get("/models/hostile/model").respond(404, json={"detail": "gone"})
        outcome = rsh("wait _", session=session, api=("http://127.0.0.1:9/v1", "r8_" + "x" * 37))
    assert outcome.code == 0, outcome
    assert session.last["status"] == "succeeded"
    assert "_" not in session.variables


def test_a_token_logged_in_after_the_first_look_up_is_kept_out_of_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rshell.cli import Api
    from rshell.session.credentials import delete_token, save_token

    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    monkeypatch.delenv("REPLICATE_BASE_URL", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    api = Api(Output(io.StringIO(), io.StringIO()), dry_run=False)
    assert api.secrets() == ()  # nobody logged in yet: the first look-up finds nothing
    save_token(CUSTOM_TOKEN, api.base_url)  # what `auth login` in the REPL does
    assert CUSTOM_TOKEN in api.secrets()
    delete_token(api.base_url)  # `auth logout`: statements may still hold the old token
    assert CUSTOM_TOKEN in api.secrets()


WITH_PASSWORD = "https://alice:hunter2-password@proxy.example:8443/v1"


def test_a_base_url_with_a_password_shows_host_and_port_only() -> None:
    from rshell.downloads import shown
    from rshell.repl import prompt

    session = Session(name="work")
    bar = "".join(text for _, text in prompt.toolbar(session, "alice", WITH_PASSWORD))
    shown_anywhere = [prompt.banner(WITH_PASSWORD), bar, shown(WITH_PASSWORD + "/files/x?sig=1")]
    for text in shown_anywhere:
        assert "proxy.example:8443" in text
        assert "hunter2" not in text and "alice:" not in text


def test_status_shows_the_base_url_without_its_password() -> None:
    outcome = rsh("status --json", api=(WITH_PASSWORD, None))
    assert outcome.json["host"] == "https://proxy.example:8443/v1"
    assert "hunter2" not in outcome.stdout + outcome.stderr


LONG_EXPRESSION = "a" * 5000


def test_source_of_a_script_with_a_syntax_error_exits_2_like_running_it(tmp_path: Path) -> None:
    script = tmp_path / "bad.rsh"
    script.write_text(f"show {{{{{LONG_EXPRESSION} +}}}}\n")
    outcome = rsh(f"source {script}")
    assert outcome.code == 2
    assert f"{script}:1: bad template expression" in outcome.stderr


@pytest.mark.parametrize(
    ("line", "blamed"),
    [(f"show {{{{{LONG_EXPRESSION} +}}}}", " +}}"), (f"{LONG_EXPRESSION}-x = show 1", "aaaa")],
)
def test_an_error_quotes_long_source_cut_to_short_lines(line: str, blamed: str) -> None:
    outcome = rsh(line)
    assert outcome.code == 2
    lines = outcome.stderr.splitlines()
    assert len(lines) == 3  # the message, the source around the column, the caret
    assert all(len(text) <= 200 for text in lines), [len(text) for text in lines]
    assert lines[-1].strip() == "^"
    assert lines[1][len(lines[-1]) - 1 :].startswith(blamed)  # the caret is under what it blames


def test_open_of_urls_keeps_its_cache_folder_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx
    import respx
    from rsh import MOCKED

    from rshell.commands.preview import OPEN_KEPT

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    folder = tmp_path / "cache" / "rshell" / "open"
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
    with respx.mock(assert_all_called=True) as router:
        router.get(url__regex=r"https://replicate\.delivery/.*").mock(return_value=httpx.Response(200, content=png))
        for n in range(OPEN_KEPT + 5):
            outcome = rsh(f"open https://replicate.delivery/x/{n}/out.png", api=MOCKED)
            assert outcome.code == 0, outcome.stderr
            assert Path(outcome.json).read_bytes() == png  # the newest file is there to view
    data_url = "data:image/png;base64,iVBORw0KGgo="
    for _ in range(OPEN_KEPT + 5):
        assert rsh(f"open '{data_url}'").code == 0
    assert len(list(folder.iterdir())) <= OPEN_KEPT


class _FakeTime:
    """The batch's clock and pause: a sleep moves the clock on, nothing really waits."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def _limited_batch(monkeypatch: pytest.MonkeyPatch, answers: int | None) -> tuple[Any, list[float], _FakeTime]:
    """A Batch whose creates get 429 (no Retry-After) `answers` times (None: for ever)."""
    from types import SimpleNamespace

    from rshell.commands import batch
    from rshell.commands.batch_journal import Journal
    from rshell.errors import ApiError

    fake = _FakeTime()
    monkeypatch.setattr(batch, "clock", fake.clock)
    monkeypatch.setattr(batch, "sleep", fake.sleep)
    calls: list[float] = []

    async def create(*_args: Any, **_options: Any) -> Any:
        calls.append(fake.now)
        if answers is None or len(calls) <= answers:
            raise ApiError(429, "Request was throttled")
        return SimpleNamespace(id="p1")

    monkeypatch.setattr(batch, "create_prediction", create)
    ctx = SimpleNamespace(out=Output(io.StringIO(), io.StringIO()))
    return batch.Batch(ctx, None, None, Journal(None), None), calls, fake  # type: ignore[arg-type]


def test_a_batch_rate_limited_with_no_progress_fails_the_row_after_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    from rshell.commands.batch import MAX_RATE_WAIT

    run, calls, fake = _limited_batch(monkeypatch, None)
    assert asyncio.run(run._create(1, {"n": 1})) is None
    assert len(calls) > 10  # it kept waiting out the 429s first
    assert MAX_RATE_WAIT <= fake.now - calls[0] <= MAX_RATE_WAIT + 10
    (result,) = run.results
    assert result["status"] == "failed" and "rate limited" in result["error"] and "rerun" in result["error"]


def test_a_batch_keeps_waiting_on_rate_limits_that_end_before_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    from rshell.commands.batch import MAX_RATE_WAIT

    run, calls, fake = _limited_batch(monkeypatch, int(MAX_RATE_WAIT / 5) - 2)
    assert asyncio.run(run._create(1, {"n": 1})).id == "p1"
    assert run.results == [] and run.limited_since is None  # the progress starts the count again
