"""Local paths for `key=@path`, `files upload PATH`, `--output-directory DIR` ….

The typed directory part is kept as typed (`~/`, `./`), directories end in `/` so the
next Tab goes inside, and dot-files show only once a `.` is typed, as in bash.
"""

from __future__ import annotations

import os
from pathlib import Path

from rshell.completion.matcher import Candidate, rank
from rshell.grammar.lexer import quote

MAX_ENTRIES = 2000


def path_candidates(prefix: str, cwd: Path | None = None) -> list[Candidate]:
    """Entries of the typed directory whose names match the typed base name."""
    typed_dir, _, base = prefix.rpartition("/")
    typed_dir = typed_dir + "/" if "/" in prefix else ""
    directory = Path(os.path.expanduser(typed_dir or "."))
    if not directory.is_absolute() and cwd is not None:
        directory = cwd / directory
    pool = _entries(directory, typed_dir, show_hidden=base.startswith("."))
    return rank(base, pool, fuzzy=False)


def _entries(directory: Path, typed_dir: str, show_hidden: bool) -> list[Candidate]:
    found: list[Candidate] = []
    try:
        with os.scandir(directory) as it:
            for entry in it:
                if len(found) >= MAX_ENTRIES:
                    break
                if entry.name.startswith(".") and not show_hidden:
                    continue
                found.append(_candidate(entry, typed_dir))
    except OSError:
        return []
    found.sort(key=lambda c: (c.display or "").lower())
    return found


def _candidate(entry: os.DirEntry[str], typed_dir: str) -> Candidate:
    try:
        is_dir = entry.is_dir()
    except OSError:
        is_dir = False
    name = entry.name + ("/" if is_dir else "")
    return Candidate(typed_dir + name, "directory" if is_dir else "file", display=name, key=entry.name.lower())


def insertable(text: str) -> str:
    """A path as it must be typed: POSIX-quoted when it holds spaces or specials.

    The leading `~/` stays outside the quotes so the shell's tilde expansion still
    applies.
    """
    if text.startswith("~/"):
        rest = text[2:]
        return "~/" + (quote(rest) if rest else "")
    return quote(text)
