"""File names and directories chosen by a server, made safe to create locally.

Servers name things rshell writes: output URLs, Content-Disposition, a file's `name`,
a prediction's id (the default `--save` directory). None of them may pick where a
file lands, so every such name goes through `plain_name` (one visible path
component, nothing but letters, digits, `.`, `_` and `-`), and the path built from
it through `inside` (resolved, symlinks included, it must stay in the directory the
user chose). One rule for all of them, so no caller gets a weaker copy.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from rshell.errors import RshellError

MAX_NAME = 120
_SEPARATORS = re.compile(r"[/\\]")
_UNSAFE = re.compile(r"[^\w.-]+")  # \w: letters and digits of any script, and `_`


def plain_name(name: object, fallback: str = "") -> str:
    """A bare, visible file name from `name`, else `fallback` (itself made plain).

    Only the last path component counts; anything but word characters, `.` and `-`
    becomes `_`; leading dots, underscores and dashes go (no hidden files, no `..`,
    no option-like names); long names are cut, keeping the extension.
    """
    text = name if isinstance(name, str) else ""
    base = _SEPARATORS.split(text)[-1]
    base = _UNSAFE.sub("_", base).lstrip("._-")
    if len(base) > MAX_NAME:
        stem, suffix = os.path.splitext(base)
        suffix = suffix[:16]
        base = stem[: MAX_NAME - len(suffix)] + suffix
    if base or not fallback:
        return base
    return plain_name(fallback)


def inside(directory: Path, name: str, *, follow: bool = True) -> Path:
    """`directory/name` with `directory` resolved; RshellError if it lies outside it.

    `name` should already be plain; this is the check that holds even when it is not.
    With `follow` (for a directory to write into) an existing symlink of that name
    must point inside too; without it (for a file created exclusively or renamed
    over, which never writes through a link) only the name itself is checked.
    """
    root = directory.resolve()
    target = root / name
    escapes = not name or name in (".", "..") or bool(_SEPARATORS.search(name)) or "\x00" in name
    if not escapes and follow:
        resolved = target.resolve()
        escapes = resolved == root or not resolved.is_relative_to(root)
    if escapes:
        raise RshellError(f"refusing to write outside {root}: {name!r}", "the server chose that name")
    return target
