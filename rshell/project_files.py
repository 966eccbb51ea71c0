"""Reading the project's own text files that live beside the package.

`references/grammar.md` (the `help TOPIC` text) and `completers/` (what `completion
SHELL` prints) are the project's single copies of that text, kept where SPEC 1's
layout puts them, so rshell reads them from there instead of carrying duplicates.
"""

from __future__ import annotations

from pathlib import Path

from rshell.errors import RshellError

ROOT = Path(__file__).resolve().parents[1]


def read_project_file(relative: str, purpose: str) -> str:
    """The text of ROOT/relative; a one-line error naming `purpose` when it is missing."""
    path = ROOT / relative
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise RshellError(
            f"cannot read {relative} for {purpose}: {error.strerror or error}",
            f"it is part of the rshell project; this installation has no {path}",
        ) from None
