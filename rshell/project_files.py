"""Reading the project's own text files: beside the package in a checkout, inside it when installed.

`references/grammar.md` (the `help TOPIC` text) and `completers/` (what `completion
SHELL` prints) are the project's single copies of that text, kept where SPEC 1's
layout puts them. A wheel carries them as `rshell/_project/<same path>` (copied there
by setup.py's build step, which reads `RUNTIME_FILES` below), so an installed rshell
reads that copy and a checkout (or an editable install) reads the originals.
"""

from __future__ import annotations

from pathlib import Path

from rshell.errors import RshellError

# Every top-level file rshell reads at run time. setup.py copies exactly these into
# the wheel, and tests/test_wheel_contents.py checks the built wheel holds each one.
RUNTIME_FILES: tuple[str, ...] = (
    "references/grammar.md",
    "completers/rshell.bash",
    "completers/_rshell",
    "completers/rshell.fish",
)

PACKAGED = Path(__file__).resolve().parent / "_project"
ROOT = Path(__file__).resolve().parents[1]


def project_file(relative: str) -> Path:
    """Where `relative` is read from: the installed copy when there is one, else the checkout's."""
    packaged = PACKAGED / relative
    return packaged if packaged.is_file() else ROOT / relative


def read_project_file(relative: str, purpose: str) -> str:
    """The text of the project file `relative`; a one-line error naming `purpose` when it is missing."""
    path = project_file(relative)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise RshellError(
            f"cannot read {relative} for {purpose}: {error.strerror or error}",
            f"it is part of the rshell project; this installation has no {path}",
        ) from None
