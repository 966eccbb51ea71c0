"""Atomic file replacement: a temp file beside the target, renamed over it.

Every file rshell writes (config, sessions, saved scripts, caches, downloads,
scaffolds) goes through here, so a crash or error never leaves a half-written file,
and a private file (mode 0600) is private from its first byte.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def replacing(path: Path, *, mode: int | None = None, suffix: str = ".tmp") -> Iterator[BinaryIO]:
    """Yield a binary file that replaces `path` when the block succeeds.

    mode: the final permissions; None means what open() would give (0666 less the
    umask). The temp file is 0600 until then. On error the temp file is removed and
    `path` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _default_mode() if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str, *, mode: int | None = None) -> None:
    """Replace `path` with `text` (UTF-8) in one step."""
    with replacing(path, mode=mode) as handle:
        handle.write(text.encode("utf-8"))


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def set_aside(path: Path, why: str) -> Path | None:
    """Rename a damaged local file to `<name>.bad-<time>` and say so in one line.

    A session, cache or hosts file that cannot be read must not stop the shell, and
    must not be silently overwritten either: it is kept beside, for the user to look
    at, and the caller starts from empty. None when even the rename failed.
    """
    import sys
    from datetime import datetime

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.bad-{stamp}")
    attempt = 1
    while aside.exists():
        aside = path.with_name(f"{path.name}.bad-{stamp}-{attempt}")
        attempt += 1
    try:
        os.replace(path, aside)
    except OSError:
        sys.stderr.write(f"warning: {path} is damaged ({why}); ignoring it\n")
        return None
    sys.stderr.write(f"warning: {path} was damaged ({why}); kept it as {aside.name} and started afresh\n")
    sys.stderr.flush()
    return aside
