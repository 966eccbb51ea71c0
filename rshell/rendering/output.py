"""Where results, progress, logs and errors go.

stdout carries results (and streamed tokens); stderr carries progress, logs and
errors (SPEC section 2). Results are JSON when asked for, or when stdout is not a
terminal, as the official CLI does.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import IO, TYPE_CHECKING, Any

from rshell.rendering.sanitize import escape_json, neutralise

if TYPE_CHECKING:
    from rshell.commands.context import Result
    from rshell.errors import RshellError


def to_json(data: Any) -> str:
    """Pretty JSON of a result; API objects and other objects via their dump."""
    return json.dumps(data, indent=2, ensure_ascii=False, default=json_default)


def as_json(value: Any) -> Any:
    """An API object (list or page of them) as plain JSON data.

    Handlers return this as `Result.data` and build summaries from it, so the
    summary shows exactly what `NAME =` binds.
    """
    dump = getattr(value, "as_json", None)
    if dump is not None:
        return dump()
    if isinstance(value, (list, tuple)):
        return [as_json(v) for v in value]
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    return value


def json_default(value: Any) -> Any:
    """json.dumps' `default`: models dump themselves, anything else becomes a string."""
    converted = as_json(value)
    return str(value) if converted is value else converted


class Output:
    def __init__(
        self,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        *,
        json_mode: bool | None = None,
    ) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.stdout_tty = isatty(self.stdout)
        self.stderr_tty = isatty(self.stderr)
        # None: decide per result (JSON unless stdout is a terminal)
        self.json_mode = json_mode
        self._mid_line = False  # streamed tokens left the cursor mid-line
        # the spinner on stderr while one is drawn: every stderr line steps around it
        # (a retry notice during a `Prefer: wait` create, say), so none lands glued to it
        self.live: Any = None

    def result(self, result: Result, *, in_json: bool, page: bool = False) -> None:
        """Print a command's result on stdout (as JSON when `in_json`, `Context.wants_json`'s
        decision, or when it has no text); on a terminal in colour, and through the pager
        (when `page`) if it is taller than the screen."""
        if result.data is None and result.text is None:
            return
        as_json = result.data is not None and (in_json or result.text is None)
        if not as_json and result.text == "":  # already shown (streamed tokens)
            self.end_line()
            return
        if as_json and result.plain is not None:  # exact off a terminal, made safe on one
            text = neutralise(result.plain) if self.stdout_tty else result.plain
        else:
            # JSON on stdout spells C1 and bidi controls as \\uXXXX: the same data for a parser, inert on a terminal
            text = escape_json(to_json(result.data)) if as_json else neutralise(result.text or "")
        self.end_line()
        text = text if text.endswith("\n") else text + "\n"
        if self.stdout_tty:
            self._show(text, as_json=as_json and result.plain is None, page=page)
            return
        self.stdout.write(text)
        self.stdout.flush()

    def _show(self, text: str, *, as_json: bool, page: bool) -> None:
        """A result for a person: coloured when wanted, paged when it will not fit."""
        from rshell.rendering import colour, pager

        shown = text
        if colour.enabled(self.stdout):
            shown = colour.json_text(text) if as_json else colour.headers(text)
        if page and pager.too_tall(text, _terminal_size()) and pager.page(shown, self.stdout):
            return
        self.stdout.write(shown)
        self.stdout.flush()

    def token(self, text: str) -> None:
        """A streamed piece of output, printed at once."""
        if not text:
            return
        self.stdout.write(neutralise(text))
        self.stdout.flush()
        self._mid_line = not text.endswith("\n")

    def info(self, message: str) -> None:
        """A progress line on stderr."""
        self._stderr_line(neutralise(message) + "\n")

    def log(self, text: str) -> None:
        """Model logs, passed through to stderr with control sequences neutralised."""
        if text:
            self._stderr_line(neutralise(text) + ("" if text.endswith("\n") else "\n"))

    def _stderr_line(self, text: str) -> None:
        """When stdout and stderr are one terminal, a stderr line first ends a line of
        streamed tokens, so it never lands glued to their end."""
        if self.stdout_tty and self.stderr_tty:
            self.end_line()
        with self._aside():
            self.stderr.write(text)
            self.stderr.flush()

    def error(self, error: RshellError) -> None:
        self.end_line()
        lines = error.lines()
        with self._aside():
            self.stderr.write(self._paint("error:", "error") + " " + neutralise(lines[0]) + "\n")
            for line in lines[1:]:
                self.stderr.write(neutralise(line, keep_cr=False) + "\n")
            self.stderr.flush()

    def _paint(self, text: str, role: str) -> str:
        from rshell.rendering import colour

        return colour.paint(text, role) if self.stderr_tty and colour.enabled(self.stderr) else text

    def _aside(self) -> contextlib.AbstractContextManager[None]:
        return self.live.aside() if self.live is not None else contextlib.nullcontext()

    def end_line(self) -> None:
        """Finish a line that streamed tokens left open (before a prompt or a result)."""
        if self._mid_line:
            self.stdout.write("\n")
            self._mid_line = False


def isatty(stream: IO[str]) -> bool:
    """Whether `stream` is a terminal; False for anything that cannot say (closed, fake)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _terminal_size() -> os.terminal_size:
    import shutil

    return shutil.get_terminal_size((80, 24))
