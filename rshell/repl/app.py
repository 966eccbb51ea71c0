"""The interactive shell: a prompt-toolkit prompt feeding the executor.

The prompt runs in the executor's event loop (prompt_async), so background completion
fetches and the running statement share one loop. While a statement runs, Ctrl-C
cancels its task (the prediction handler then cancels on the server); while typing,
Ctrl-C clears the line. Errors are printed by the executor and never end the shell.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import TYPE_CHECKING, Any

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory, Suggestion
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.completion import Completer
from prompt_toolkit.document import Document
from prompt_toolkit.enums import EditingMode
from prompt_toolkit.filters import Condition, to_filter
from prompt_toolkit.history import History
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import merge_key_bindings
from prompt_toolkit.lexers import PygmentsLexer
from prompt_toolkit.output import Output as PtOutput
from prompt_toolkit.styles import Style

from rshell import typeahead
from rshell.errors import EXIT_INTERRUPTED, EXIT_OK, Interrupted, RshellError
from rshell.grammar.lexer import is_complete
from rshell.repl import guard
from rshell.repl import prompt as prompt_text
from rshell.repl.history import SafeFileHistory
from rshell.repl.keys import key_bindings
from rshell.repl.lexer import for_session

if TYPE_CHECKING:
    from rshell.executor import Executor

log = logging.getLogger(__name__)


async def run_repl(executor: Executor, *, session_name: str) -> int:
    """The CLI's entry for `rshell` on a terminal; returns the exit code on leaving."""
    if executor.session.name != session_name:
        executor.session.name = session_name
    repl = Repl(executor)
    return await repl.run()


class Repl:
    """One interactive session: prompt, run, persist, repeat until Ctrl-D or `exit`."""

    def __init__(
        self,
        executor: Executor,
        *,
        completer: Completer | None = None,
        history: History | None = None,
        input: Input | None = None,
        output: PtOutput | None = None,
    ) -> None:
        self.executor = executor
        self.account: str | None = None
        self.failed: set[str] = set()  # lines that failed this session: never suggested
        self._completion = None if completer is not None else _Completion(executor)
        self.completer = completer if completer is not None else self._completion.completer  # type: ignore[union-attr]
        self.prompt = PromptSession[str](
            message=lambda: prompt_text.prompt_message(self.executor.session),
            lexer=PygmentsLexer(for_session(lambda: self.executor.session.aliases)),
            completer=self.completer,
            complete_while_typing=True,
            history=history if history is not None else SafeFileHistory(secrets=executor.env.secrets),
            auto_suggest=_SuggestWhatWorked(self.failed),
            key_bindings=merge_key_bindings([guard.mouse_bindings(), key_bindings()]),
            enable_open_in_editor=True,
            multiline=Condition(self._needs_more),
            prompt_continuation=prompt_text.continuation,
            bottom_toolbar=lambda: prompt_text.toolbar(
                self.executor.session, self.account, self.executor.base_url, self._mode_label(), self._columns()
            ),
            style=Style.from_dict(prompt_text.STYLE_RULES),
            search_ignore_case=True,
            input=input,
            output=output,
        )
        # Up searches history by the typed prefix; set on the buffer only, because the
        # session-wide switch would also turn off completion while typing.
        self.prompt.default_buffer.enable_history_search = to_filter(True)
        self._task: asyncio.Task[int] | None = None
        guard.guard_keys(self.prompt.app, self._say)

    # -- the loop ------------------------------------------------------------------
    async def run(self) -> int:
        if self.executor.on_statement is None:
            self.executor.on_statement = lambda _statement, _code: self._save()
        loop = asyncio.get_running_loop()
        before = loop.get_exception_handler()
        loop.set_exception_handler(guard.loop_errors(self._say))
        account_task = loop.create_task(self._fetch_account())
        self.executor.out.info(prompt_text.banner(self.executor.base_url))
        if self._completion is not None:
            try:
                self._completion.start(loop, self.prompt)
            except Exception as error:  # the shell still works, only without completion
                log.debug("completion not started", exc_info=True)
                self.executor.out.info(f"completion is unavailable: {type(error).__name__}: {error}")
        try:
            while True:
                text = await self._read()
                if text is None:
                    if await self._may_leave():
                        break
                    continue
                if not text.strip():
                    continue
                if text.strip() in LEAVE_WORDS:
                    if await self._may_leave():
                        break
                    continue
                if await self._run(text) != EXIT_OK:
                    self.failed.add(text)
                if self.executor.exit_requested:
                    if await self._may_leave():
                        break
                    self.executor.exit_requested = False
        finally:
            account_task.cancel()
            if self._completion is not None:
                self._completion.stop()
            self._save()
            loop.set_exception_handler(before)
        return EXIT_OK  # leaving the shell is a success; statements reported their own

    async def _read(self) -> str | None:
        """The next input; None on Ctrl-D. Ctrl-C while typing just clears the line.
        Each prompt first takes in what other processes bound in this session."""
        while True:
            self._pick_up()
            try:
                return await self.prompt.prompt_async(editing_mode=self._editing_mode(), set_exception_handler=False)
            except KeyboardInterrupt:
                continue
            except EOFError:
                return None

    async def _run(self, text: str) -> int:
        """Run the statements of `text`; Ctrl-C cancels them, the shell carries on.
        What another process bound while this prompt waited is taken in first."""
        self._pick_up()
        loop = asyncio.get_running_loop()
        task = loop.create_task(self.executor.run_text(text, source="<stdin>"))
        self._task = task
        loop.add_signal_handler(signal.SIGINT, self._interrupt)
        try:
            with typeahead.held(self._input_fd()):
                code = await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            self.executor.out.error(Interrupted("interrupted"))
            code = EXIT_INTERRUPTED
        except RshellError as error:  # the executor reports its own; this is a safety net
            self.executor.out.error(error)
            code = error.exit_code
        except Exception as error:  # never let a bug end the shell
            log.debug("statement crashed", exc_info=True)
            self.executor.out.error(RshellError(f"internal error: {type(error).__name__}: {error}"))
            code = 1
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            self._task = None
            self._end_output_line()
        return code

    def _interrupt(self) -> None:
        """SIGINT while a statement runs: cancel it (a second press cancels again)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _may_leave(self) -> bool:
        """Leaving is immediate unless predictions are still in flight: then ask."""
        await self._settle_in_flight()
        in_flight = len(self.executor.session.in_flight)
        if not in_flight:
            return True
        asker: PromptSession[str] = PromptSession(input=self.prompt.input, output=self.prompt.output)
        try:
            answer = await asker.prompt_async(prompt_text.leave_question(in_flight))
        except KeyboardInterrupt:
            return False
        except EOFError:
            return True
        return answer.strip().lower() in ("y", "yes")

    async def _settle_in_flight(self) -> None:
        """Forget runs that finished since we last looked (a --no-wait run, say);
        a slow or unreachable API only means we ask about what we knew."""
        if not self.executor.session.in_flight:
            return
        from rshell.commands.running import settle_in_flight

        try:
            client = await self.executor.client()
            await asyncio.wait_for(settle_in_flight(self.executor.session, client), timeout=3)
        except Exception:  # leaving must never fail
            log.debug("could not refresh predictions in flight", exc_info=True)

    # -- helpers -------------------------------------------------------------------
    def _needs_more(self) -> bool:
        """Enter inserts a newline while the input is incomplete (open quote, `\\`)."""
        text = self.prompt.default_buffer.text
        try:
            return not is_complete(text)
        except Exception:
            return False

    def _mode_label(self) -> str:
        """`emacs`, or Vi's input mode as people know it: `vi INSERT`, `vi NAV`."""
        if self._editing_mode() is not EditingMode.VI:
            return "emacs"
        from prompt_toolkit.key_binding.vi_state import InputMode

        names = {InputMode.NAVIGATION: "NAV", InputMode.REPLACE: "REPLACE", InputMode.REPLACE_SINGLE: "REPLACE"}
        return f"vi {names.get(self.prompt.app.vi_state.input_mode, 'INSERT')}"

    def _input_fd(self) -> int | None:
        """The terminal the keys come from (None for a test's pipe without one)."""
        try:
            return self.prompt.input.fileno()
        except Exception:
            return None

    def _columns(self) -> int | None:
        """The terminal's width, for a toolbar that fits it."""
        try:
            return self.prompt.app.output.get_size().columns
        except Exception:  # no size known: the toolbar is drawn whole
            return None

    def _editing_mode(self) -> EditingMode:
        mode = str(self.executor.session.options.get("editing_mode", "emacs")).lower()
        return EditingMode.VI if mode == "vi" else EditingMode.EMACS

    async def _fetch_account(self) -> None:
        """Learn the account name in the background, so the first prompt never waits."""
        try:
            self.account = await self.executor.account_name()
        except Exception:
            return
        app = self.prompt.app
        if app.is_running:
            app.invalidate()

    def _say(self, line: str) -> None:
        """One line about something that went wrong in the prompt itself."""
        guard.say_above_prompt(self.prompt.app, lambda: self.executor.out.error(RshellError(line)))

    def _pick_up(self) -> None:
        """Bindings, aliases and options another rshell saved in this session since."""
        from rshell.session.store import refresh_session

        try:
            refresh_session(self.executor.session)
        except Exception:  # a prompt must come whatever the database does
            log.debug("session not refreshed", exc_info=True)

    def _save(self) -> None:
        from rshell.session.store import save_session

        try:
            known = self.executor.env.secrets
            save_session(self.executor.session, known() if known is not None else ())
        except (OSError, RshellError) as error:
            message = getattr(error, "message", None) or str(error)
            self.executor.out.error(RshellError(f"could not save the session: {message}"))

    def _end_output_line(self) -> None:
        """Streamed tokens may leave the cursor mid-line; the prompt starts on a fresh one."""
        self.executor.out.end_line()


LEAVE_WORDS = ("\\q",)  # psql's and pgcli's way out; `exit`/`quit` are commands


class _SuggestWhatWorked(AutoSuggestFromHistory):
    """History suggestions, minus the lines that failed in this session."""

    def __init__(self, failed: set[str]) -> None:
        self.failed = failed

    def get_suggestion(self, buffer: Buffer, document: Document) -> Suggestion | None:
        text = document.text.rsplit("\n", 1)[-1]
        if not text.strip():
            return None
        for entry in reversed(list(buffer.history.get_strings())):
            if entry in self.failed:
                continue
            for line in reversed(entry.splitlines()):
                if line.startswith(text):
                    return Suggestion(line[len(text) :])
        return None


class _Completion:
    """The completion engine, its cache and background refresher, wired to the prompt."""

    def __init__(self, executor: Executor) -> None:
        from rshell.repl.completer import EngineCompleter

        self.executor = executor
        self.cache: Any = None
        self.refresher: Any = None
        self.engine: Any = None
        self.completer = EngineCompleter(_LazyEngine(self))

    def start(self, loop: asyncio.AbstractEventLoop, prompt: PromptSession[str]) -> None:
        from rshell.completion.cache import CompletionCache, default_path
        from rshell.completion.engine import CompletionEngine
        from rshell.completion.refresher import Refresher
        from rshell.repl.completer import refresh_menu

        self.cache = CompletionCache(default_path(self.executor.env.cache_url or self.executor.base_url))
        try:
            self.cache.load()
        except Exception:  # a damaged cache only costs warm completions
            log.debug("completion cache not loaded", exc_info=True)
        self.refresher = Refresher(self.executor.client, self.cache, loop)
        self.refresher.on_update = lambda *_: refresh_menu(prompt.app, self.completer)
        self.engine = CompletionEngine(self.cache, self.executor.session, self.refresher)

    def stop(self) -> None:
        if self.refresher is not None:
            stop = getattr(self.refresher, "stop", None)
            if callable(stop):
                stop()
        if self.cache is not None:
            try:
                self.cache.save()
            except Exception:
                log.debug("completion cache not saved", exc_info=True)


class _LazyEngine:
    """The engine once `start` built it; no completions before that."""

    def __init__(self, owner: _Completion) -> None:
        self.owner = owner

    def complete(self, text_before_cursor: str) -> list[Any]:
        if self.owner.engine is None:
            return []
        return self.owner.engine.complete(text_before_cursor)
