"""The errors rshell reports to a user: one or two plain lines and an exit code.

Every layer raises one of these (never a bare exception for a user mistake), so the
entry points can print `error: <message>` plus an optional hint and exit with the
code SPEC section 2 assigns, without a traceback.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1  # API or runtime failure, including a failed prediction
EXIT_USAGE = 2  # usage or validation error: nothing was sent
EXIT_INTERRUPTED = 130


class RshellError(Exception):
    """A failure with a message fit for the user; `hint` is the optional second line."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def lines(self) -> list[str]:
        """The one or two lines to print (without the `error: ` prefix)."""
        return [self.message] + ([self.hint] if self.hint else [])

    def located(self, where: str) -> RshellError:
        """A copy whose message starts with `where` (e.g. `FILE:LINE`) for scripts."""
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.message = f"{where}: {self.message}"
        clone.args = (clone.message,)
        return clone


class UsageError(RshellError):
    """Bad input from the user, caught before any request was sent."""

    exit_code = EXIT_USAGE


class ParseError(UsageError):
    """A syntax error at a column of a line; renders the line with a caret under it."""

    def __init__(self, message: str, column: int, line: str = "") -> None:
        self.column = column
        self.line = line
        pointer = "\n".join(_pointed(line, column)) if line else None
        super().__init__(f"{message} (column {column + 1})", pointer)


QUOTED_WIDTH = 60  # characters of the user's source an error message repeats
_POINTER_WIDTH = 76  # characters of the line shown above the caret


def _pointed(line: str, column: int) -> tuple[str, str]:
    """The line (a window of it around `column` when long, cut ends marked `…`) and
    a caret under `column`: a 5,000-character line stays two short lines."""
    from rshell.text import ELLIPSIS

    if len(line) <= _POINTER_WIDTH:
        return line, " " * column + "^"
    start = max(0, min(column - _POINTER_WIDTH // 2, len(line) - _POINTER_WIDTH))
    end = start + _POINTER_WIDTH
    shown = (ELLIPSIS if start else "") + line[start:end] + (ELLIPSIS if end < len(line) else "")
    return shown, " " * (column - start + (1 if start else 0)) + "^"


class ApiError(RshellError):
    """The API answered with an error status; `detail` is problem+json's detail."""

    def __init__(self, status: int, detail: str, hint: str | None = None) -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"API error {status}: {detail}", hint)


class AuthError(RshellError):
    """No token, or the API refused it."""


class NetworkError(RshellError):
    """The API could not be reached (after retries)."""


class Interrupted(RshellError):
    """Ctrl-C: the user stopped a command; exit 130 in a one-shot.

    `result` carries what the command had when stopped (a canceled prediction), which
    the executor binds to `_` so the REPL returns to the prompt with it.
    """

    exit_code = EXIT_INTERRUPTED

    def __init__(self, message: str, hint: str | None = None, result: object = None) -> None:
        super().__init__(message, hint)
        self.result = result


class DryRunStop(Exception):
    """Control flow, not a user error: in --dry-run a statement reached a request that
    would change something; the request was printed and the statement stops there.

    `output_schema` (set by a handler that knows it): the shape the statement's
    placeholder result takes, so later templates expand as they would for real.
    """

    output_schema: dict | None = None
    text_output: bool = False
