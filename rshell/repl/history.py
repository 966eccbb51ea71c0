"""The REPL's persistent history: prompt-toolkit's FileHistory minus secret lines.

A line carrying a token (SPEC 6) is kept neither in the file nor in memory, so it can
be neither recalled with the arrows nor found again with Ctrl-R.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from prompt_toolkit.history import FileHistory

from rshell.session.store import append_history, history_path, is_secret


class SafeFileHistory(FileHistory):
    """FileHistory that refuses secret entries and writes with the store's helper."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or history_path()
        super().__init__(str(self.path))

    def append_string(self, string: str) -> None:
        if is_secret(string):
            return
        super().append_string(string)

    def store_string(self, string: str) -> None:
        append_history(string, self.path)

    def load_history_strings(self) -> Iterable[str]:
        """Earlier entries, newest first, without any secret written by an older version."""
        for entry in super().load_history_strings():
            if not is_secret(entry):
                yield entry
