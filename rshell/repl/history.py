"""The REPL's persistent history: prompt-toolkit's FileHistory minus secret lines.

A line carrying a token (SPEC 6) is kept neither in the file nor in memory, so it can
be neither recalled with the arrows nor found again with Ctrl-R.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from prompt_toolkit.history import FileHistory

from rshell.session.secrets import holds_secret
from rshell.session.store import append_history, history_path


class SafeFileHistory(FileHistory):
    """FileHistory that refuses secret entries and writes with the store's helper."""

    def __init__(self, path: Path | None = None, secrets: Callable[[], Iterable[str]] | None = None) -> None:
        self.path = path or history_path()
        self._secrets = secrets  # the tokens in use (the entry point knows them), not only r8_ ones
        super().__init__(str(self.path))

    def _is_secret(self, string: str) -> bool:
        return holds_secret(string, self._secrets() if self._secrets is not None else ())

    def append_string(self, string: str) -> None:
        if self._is_secret(string):
            return
        super().append_string(string)

    def store_string(self, string: str) -> None:
        append_history(string, self.path)

    def load_history_strings(self) -> Iterable[str]:
        """Earlier entries, newest first, without any secret written by an older version."""
        for entry in super().load_history_strings():
            if not self._is_secret(entry):
                yield entry
