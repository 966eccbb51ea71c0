"""`rsh(line)`: run rshell text through the real path (`Executor.run_text`) and see
what a user sees, like httpie's `http()` test helper.

One call is one fresh run: captured stdout and stderr, the exit code, the stdout
parsed as JSON when it is JSON, the errors the executor reported, and the value the
run bound to `_`. Pass a `Session` to keep state (aliases, options, variables)
between calls, and `api=(base_url, token)` for a server (the `sandbox` fixture,
`MOCKED` for the shared respx fixture `api` of conftest.py, `hostile`).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import api_fixtures
import respx

from rshell.commands.context import Environment
from rshell.errors import RshellError
from rshell.executor import Executor
from rshell.rendering.output import Output
from rshell.session.state import Session

BASE = api_fixtures.BASE  # the shared respx fixture mocks it: nothing leaves the machine
TOKEN = "r8_fake-handlertesttoken"
MOCKED = (BASE, TOKEN)


class _Recorded(Output):
    """An `Output` that also keeps every error it was asked to show, so a test can
    check its class and fields as well as its printed lines."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.errors: list[RshellError] = []

    def error(self, error: RshellError) -> None:
        self.errors.append(error)
        super().error(error)


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str
    errors: list[RshellError] = field(default_factory=list)
    data: Any = None  # what the run left in `_` (the session's last result)
    out: Output | None = None  # the run's Output, for what is left on it (a spinner)

    @property
    def json(self) -> Any:
        """The stdout as JSON (raises when it is not: a test asking for JSON wants it)."""
        return json.loads(self.stdout)

    @property
    def error(self) -> RshellError:
        """The one error reported (raises when there was none or several)."""
        (only,) = self.errors
        return only


def rsh(
    text: str,
    *,
    session: Session | None = None,
    api: tuple[str, str | None] | None = None,
    json_mode: bool | None = True,
    source: str = "-c",
    env: Environment | None = None,
    dry_run: bool = False,
    interactive: bool = False,
    stdout_tty: bool = False,
    stderr_tty: bool = False,
    interrupt_when: Callable[[], bool] | None = None,
    keep_going: bool = False,
    piped: Callable[[], Any] | None = None,
    client_factory: Callable[[], Any] | None = None,
) -> Outcome:
    """Run `text` as `rshell -c` would; nothing is sent unless `api` names a server.

    The client is built by the entry point's own `cli.Api` (with `dry_run`, its dry-run client);
    `interrupt_when` is Ctrl-C: the run is cancelled once it returns True; `piped`
    reads what stdin would hold (`rshell run … < x.json`); `client_factory` replaces
    the client (one that raises, say).
    """
    stdout, stderr = io.StringIO(), io.StringIO()
    out = _Recorded(stdout, stderr, json_mode=json_mode)
    out.stdout_tty, out.stderr_tty = stdout_tty, stderr_tty
    base_url, token = api or ("", "")
    chosen = session if session is not None else Session()

    from rshell.cli import Api

    root = Api(out, dry_run=dry_run, base_url=base_url, token=token or "", retries=0)  # the entry point's own

    def client() -> Any:
        return root.make() if dry_run else root.make_with_token(token)

    executor = Executor(
        chosen,
        out,
        client_factory or (client if api else None),
        dry_run=dry_run,
        interactive=interactive,
        read_piped=piped,
        base_url=base_url,
        env=env,
    )

    async def go() -> int:
        run = executor.run_text(text, source=source, keep_going=keep_going)
        try:
            if interrupt_when is None:
                return await run
            return await _interrupted(run, interrupt_when)
        finally:
            await executor.aclose()

    code = asyncio.run(go())
    return Outcome(code, stdout.getvalue(), stderr.getvalue(), out.errors, chosen.last, out)


async def _interrupted(run: Any, ready: Callable[[], bool]) -> int:
    """Cancel `run` (Ctrl-C reaches a statement as a cancellation) once `ready()`."""
    task = asyncio.create_task(run)
    for _ in range(1000):
        await asyncio.sleep(0)
        if ready() or task.done():
            break
    if task.done():
        raise AssertionError("the run finished instead of being interrupted")
    task.cancel()
    return await task


def body_of(route: respx.Route, index: int = -1) -> dict:
    """The JSON body of a mocked route's call (the last one by default)."""
    return json.loads(route.calls[index].request.content)


def mocked(text: str, **kwargs: Any) -> Outcome:
    """`rsh` against the shared respx fixture `api`, printed as text (what a terminal
    shows, without colour); `.data` holds what `--json` would print."""
    kwargs.setdefault("json_mode", False)
    return rsh(text, api=MOCKED, **kwargs)


def rshell_main(
    *args: str,
    stdin: str = "",
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
) -> Outcome:
    """`rshell ARGS` through the composition root (`cli.main(args, env)`) in this
    process: for tests that need no real process (no pty, no signal, no real shell).

    `env` is the whole environment of the run, as `subprocess.run(env=…)` takes it
    (without it the test's own: monkeypatch it), `cwd` its working directory; both are
    the process's again afterwards. What reaches `sys.stdout`/`sys.stderr` during the
    run is part of its output, as it is a process's."""
    from rshell.cli import Env, main

    stdout, stderr = io.StringIO(), io.StringIO()
    with _environment(env), _working_directory(cwd), _streams(stdout, stderr):
        code = main(list(args), Env(io.StringIO(stdin), stdout, stderr))
    return Outcome(code, stdout.getvalue(), stderr.getvalue())


@contextmanager
def _environment(env: Mapping[str, str] | None) -> Iterator[None]:
    """`os.environ` is `env` inside, the test's own again after."""
    if env is None:
        yield
        return
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def _working_directory(cwd: Path | str | None) -> Iterator[None]:
    if cwd is None:
        yield
        return
    saved = os.getcwd()
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(saved)


@contextmanager
def _streams(stdout: io.StringIO, stderr: io.StringIO) -> Iterator[None]:
    """`sys.stdout`/`sys.stderr` write to the run's own buffers (a warning a module
    writes there is what the user of a process sees); pytest's are back after."""
    with redirect_stdout(stdout), redirect_stderr(stderr):
        yield
