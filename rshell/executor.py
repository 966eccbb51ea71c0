"""Run statements: expand aliases and templates, dispatch through the catalog, bind.

The executor is the one place that turns parsed text into handler calls, so the REPL,
`-c`, scripts and argv one-shots all behave the same: same errors, same exit codes,
same binding of `_` and `NAME =`.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import subprocess
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from rshell.client.fields import json_run_kind
from rshell.commands.context import Context, Environment, Result
from rshell.commands.registry import Command
from rshell.commands.resolver import Plan, read_plan
from rshell.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    AuthError,
    DryRunStop,
    Interrupted,
    RshellError,
    UsageError,
)
from rshell.grammar.aliases import naming_alias
from rshell.grammar.inputs import script_folder
from rshell.grammar.lexer import Word, quote
from rshell.grammar.parser import CommandNode, Statement, parse_script
from rshell.grammar.templates import expand
from rshell.precheck import nothing_piped, precheck
from rshell.rendering.output import Output, to_json
from rshell.schemacheck import check_inputs

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient
    from rshell.session.state import Session

_NO_PIPED = object()


class Executor:
    def __init__(
        self,
        session: Session,
        out: Output,
        client_factory: Callable[[], ReplicateClient] | None = None,
        *,
        dry_run: bool = False,
        interactive: bool = False,
        piped: Any = _NO_PIPED,
        read_piped: Callable[[], Any] | None = None,
        base_url: str = "",
        debug: bool = False,
        env: Environment | None = None,
    ) -> None:
        self.session = session
        self.out = out
        self._client_factory = client_factory
        self._client: ReplicateClient | None = None
        self.dry_run = dry_run
        self.interactive = interactive
        self._piped = piped
        self._read_piped = read_piped
        self.base_url = base_url
        self.debug = debug
        self.env = msgspec.structs.replace(env or Environment(), base_url=base_url, request_exit=self._request_exit)
        self.exit_requested = False
        self._in_statement = False
        self._account: str | None = None
        self.on_statement: Callable[[Statement, int], None] | None = None  # the REPL persists here
        self._plans: dict[int, Plan] = {}  # the stages precheck read, by id(node): run as read
        self._ran: Command | None = None  # the command the last stage ran
        self._first: Command | None = None  # the command the last statement's first stage ran

    # -- the shared client ---------------------------------------------------------
    async def client(self) -> ReplicateClient:
        """The one client all commands share, made on first use (raises AuthError)."""
        if self._client is None:
            if self._client_factory is None:
                raise UsageError("this command needs the API, which is not configured here")
            self._client = self._client_factory()
            if getattr(self._client, "on_retry", False) is None:
                self._client.on_retry = self._announce_retry  # SPEC 8: a wait before a retry is said
        return self._client

    def set_base_url(self, url: str) -> None:
        """The API moved (a `--local` sandbox started on first use): say so everywhere."""
        self.base_url = url
        self.env = msgspec.structs.replace(self.env, base_url=url)

    def _request_exit(self) -> None:
        self.exit_requested = True

    def _announce_retry(self, message: str) -> bool:
        """A wait before a retry, on stderr, while a statement runs; background lookups
        (the REPL's toolbar, completion) wait silently rather than draw over the prompt
        (False: not shown)."""
        if self._in_statement:
            self.out.info(message)
        return self._in_statement

    async def account_name(self) -> str | None:
        """The account's username for prompts and toolbars; None when unknown."""
        if self._account is None:
            try:
                self._account = (await (await self.client()).account_get()).username
            except Exception:  # a prompt decoration must never fail the shell
                return None
        return self._account

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- running text ----------------------------------------------------------------
    async def run_text(
        self, text: str, *, source: str = "-c", keep_going: bool = False, folder: Path | None = None
    ) -> int:
        """Parse and run every statement of `text`; the first failure's exit code.

        Usage errors that need no network stop the text before its first request
        (exit 2, nothing sent), unless `keep_going` runs what it can. `folder`: a
        script's own folder, where its relative paths start.
        """
        if text.strip() == "!!":  # the last line again (bash, IPython): `rerun-line` says which
            text = "rerun-line"
        try:
            statements = parse_script(text)
        except RshellError as error:
            self._report(error, source, getattr(error, "line_no", None))
            return error.exit_code
        with script_folder(folder):
            if keep_going:
                return await self.run_statements(statements, source=source, keep_going=keep_going)
            checked = precheck(statements, self.session, piped=self._has_piped(), asks=self.interactive or self.dry_run)
            found = checked.problems or await check_inputs(checked.runs, self.client)
            if found:
                for statement, problem in found:
                    self._report(problem, source, statement.line)
                return found[0][1].exit_code
            self._plans.update(checked.plans)
            try:
                return await self.run_statements(statements, source=source, keep_going=keep_going)
            finally:
                for key in checked.plans:
                    self._plans.pop(key, None)

    def _has_piped(self) -> bool:
        return self._piped is not _NO_PIPED or self._read_piped is not None

    async def run_statements(self, statements: list[Statement], *, source: str, keep_going: bool = False) -> int:
        status = EXIT_OK
        for statement in statements:
            if self.exit_requested:
                break
            code = await self._run_reporting(statement, source)
            if self.on_statement is not None:
                self.on_statement(statement, code)
            if code != EXIT_OK:
                status = status or code
                if code == EXIT_INTERRUPTED or not keep_going:
                    return code
        return status

    async def run_argv(self, words: list[str]) -> int:
        """One statement from argv: the user's shell already removed the quoting."""
        nodes = [CommandNode([Word(w, 0, len(w)) for w in words])]
        text = " ".join(quote(w) for w in words)
        return await self.run_statements([Statement(None, nodes, text, 1)], source="")

    async def _run_reporting(self, statement: Statement, source: str) -> int:
        try:
            result = await self.run_statement(statement)
        except Interrupted as error:
            if isinstance(error.result, Result) and error.result.data is not None:
                self.session.bind(statement.target, error.result.data)
            self._report(error, source, statement.line)
            return error.exit_code
        except RshellError as error:
            self._report(error, source, statement.line)
            return error.exit_code
        except (KeyboardInterrupt, asyncio.CancelledError):
            self._report(Interrupted("interrupted"), source, statement.line)
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            raise  # the reader of stdout left (`| head -1`): not a bug; the entry point ends quietly
        except Exception as error:  # a bug: say so in one line, traceback only with --debug
            if self.debug:
                traceback.print_exc(file=self.out.stderr)
            from rshell.client.problems import one_line

            self._report(
                RshellError(
                    one_line(f"internal error: {type(error).__name__}: {error}"),
                    "run again with --debug to see the traceback",
                ),
                source,
                statement.line,
            )
            return EXIT_FAILURE
        if not result.ok:
            self._report(RshellError(result.error or "the command failed"), source, statement.line)
            return EXIT_FAILURE
        self._remember(statement, self._first)
        return EXIT_OK

    def _report(self, error: RshellError, source: str, line: int | None) -> None:
        if source and source not in ("-c", "<stdin>") and line:
            error = error.located(f"{source}:{line}")
        self.out.error(error)

    def _remember(self, statement: Statement, first: Command | None) -> None:
        """Keep a successful statement for `save`, which decides what replays and says
        why the rest does not; a line holding a token is kept only masked, and one that
        only showed the shell (`help`, `vars`: `first` declares it) is not kept."""
        from rshell.session.secrets import is_secret

        if first is not None and first.save.kind == "shows":
            return
        text = statement.text
        if is_secret(text):
            from rshell.commands.replay import masked

            text = masked(text)
        self.session.statements.append(text)

    # -- one statement ---------------------------------------------------------------
    async def run_statement(self, statement: Statement) -> Result:
        """Run a pipeline; each stage's result is the next one's `{{.…}}` context.

        Only the last stage prints (a stage that fails stops the pipeline and shows
        what it has); `NAME =` and `_` take the last API result, so
        `x = run … | !jq .output` still binds the prediction.
        """
        piped: Any = self._piped
        result = Result()
        value: Any = None
        last = len(statement.pipeline) - 1
        self._ran = self._first = None
        for index, node in enumerate(statement.pipeline):
            if node.system is not None:
                result = await self._run_system(node.system, piped)
            else:
                result = await self._run_command(node, piped, statement.target, show=index == last)
                if index == 0:
                    self._first = self._ran
                if result.text_output:
                    self.session.note_text_output(result.data)
                if result.bind and result.data is not None:
                    value = result.data
            if not result.ok:
                break
            piped = result.data
        if value is not None:
            self.session.bind(statement.target, value)
            self.session.numbered.add(value, statement.text)  # also `_N`, IPython's Out[N]
        elif statement.target:
            raise UsageError(f"nothing to bind to '{statement.target}'", "that command has no result")
        return result

    async def _run_command(self, node: CommandNode, piped: Any, target: str | None, *, show: bool = True) -> Result:
        checked = self._plans.pop(id(node), None)
        with naming_alias(node.words, self.session.aliases):
            plan = checked or read_plan(node.words, self.session.aliases, self.session.options)
        if piped is _NO_PIPED and self._read_piped is not None and any(ref.name is None for ref in plan.refs):
            piped = self._piped_value(piped)
            await self._note_piped_text(piped)
        values = [w.value for w in plan.words]
        if plan.templated:
            lookup = self._lookup(piped)
            try:
                values = [
                    expand(w, lookup, self.session.joins) if i in plan.templated else w.value
                    for i, w in enumerate(plan.words)
                ]
            except UsageError as error:
                if checked is None:
                    raise
                raise RshellError(error.message, error.hint) from None  # names were checked: only the run tells
        with naming_alias(node.words, self.session.aliases):
            command, args = plan.run_args(values, self.session.options)
        self._ran = command
        handler = load_handler(command.handler)
        ctx = Context(
            session=self.session,
            out=self.out,
            get_client=self.client,
            piped=None if piped is _NO_PIPED else piped,
            dry_run=self.dry_run,
            interactive=self.interactive,
            run_script=self.run_text,
            env=self.env,
            shown=show,
            words=tuple(plan.words),
        )
        self._in_statement = True
        try:
            result = await handler(ctx, args)
        except DryRunStop as stop:
            return _placeholder(target, stop)
        except AuthError as error:
            if not self.dry_run:
                raise
            self.out.info(f"not read: {error.message}")  # a dry run without a token shows what it can
            return _placeholder(target, DryRunStop())
        finally:
            self._in_statement = False
            self._ran = command  # a statement run inside it (`source`, `rerun-line`) is not what this stage ran
        if show or not result.ok:
            self._print(result, in_json=ctx.wants_json(args))
        return result

    def _print(self, result: Result, *, in_json: bool) -> None:
        if result.ok or result.data is not None:
            page = self.interactive and self.session.options.get("pager") is not False  # pgcli: the shell pages
            self.out.result(result, in_json=in_json, page=page)

    def _lookup(self, piped: Any) -> Callable[[str | None], Any]:
        def lookup(name: str | None) -> Any:
            if name is None:
                value = self._piped_value(piped)
                if value is _NO_PIPED:
                    raise nothing_piped()
                return value
            return self.session.lookup(name)

        return lookup

    async def _note_piped_text(self, value: Any) -> None:
        """A run another process piped in joins as its own shell would: its schema says."""
        if json_run_kind(value) != "prediction" or self.session.joins(value):
            return
        from rshell.commands.modelref import streams_text

        if await streams_text(await self.client(), value):
            self.session.note_text_output(value)

    def _piped_value(self, piped: Any) -> Any:
        if piped is _NO_PIPED and self._read_piped is not None:
            self._piped = piped = self._read_piped()
            self._read_piped = None
        return piped

    async def _run_system(self, command: str, piped: Any) -> Result:
        """`!cmd` runs in /bin/sh; a piped result arrives on its stdin as JSON."""
        stdin = None if piped is _NO_PIPED or piped is None else to_json(piped).encode()
        if self.dry_run:
            self.out.stdout.write(f"! {command}\n")
            return Result(bind=False)
        self.out.stdout.flush()
        from rshell.typeahead import released

        with released():  # the command may talk to the person at the terminal
            code = await asyncio.to_thread(_system, command, stdin, self.out)
        if code != 0:
            return Result(ok=False, bind=False, error=f"`{command}` exited with status {code}")
        return Result(bind=False)


def _system(command: str, stdin: bytes | None, out: Output) -> int:
    stdout = out.stdout if _has_fileno(out.stdout) else subprocess.PIPE
    proc = subprocess.run(["/bin/sh", "-c", command], input=stdin, stdout=stdout, stderr=None)
    if stdout is subprocess.PIPE and proc.stdout:
        out.stdout.write(proc.stdout.decode(errors="replace"))
    return proc.returncode


def _has_fileno(stream: Any) -> bool:
    try:
        stream.fileno()
        return True
    except (AttributeError, OSError, ValueError):
        return False


def load_handler(spec: str) -> Callable[..., Any]:
    """The handler a catalog entry names ("module:function"), imported on first use."""
    module_name, _, function = spec.partition(":")
    return getattr(importlib.import_module(module_name), function)


def _placeholder(target: str | None, stop: DryRunStop) -> Result:
    """What a statement a dry run stopped binds, so later lines still expand."""
    from rshell.dryrun import placeholder_run

    return Result(data=placeholder_run(target or "_", stop), text="", text_output=stop.text_output)


def read_stdin_json(stream: Any = None) -> Any:
    """JSON piped on stdin, the `{{.…}}` context of official CLI chaining."""
    stream = stream or sys.stdin
    text = stream.read()
    if not text.strip():
        return _NO_PIPED
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(
            f"stdin is not JSON ({error.msg} at line {error.lineno})",
            "pipe the JSON output of another rshell command, e.g. `rshell run a … | rshell run b x={{.output[0]}}`",
        ) from None
