"""Atomic file writes: a temp file beside the target, fsynced, then renamed or linked.

Every file rshell writes (config, saved scripts, caches, downloads, scaffolds) goes
through here, so a crash, an error or kill -9 never leaves a half-written or empty
file under its final name, and a private file (mode 0600) is private from its first
byte. Temp files are hidden (`.NAME.<pid>-XXXX.part`) and carry the writer's pid, so
`sweep` can remove the ones a killed process left without touching a live writer's.
"""

from __future__ import annotations

import errno
import itertools
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from rshell.errors import RshellError


class WriteFailed(RshellError, OSError):
    """A file rshell could not write, said as the file and the cause (disk full,
    read-only, permission denied, a folder in the way), never as a bare OSError;
    still an OSError, so code that handles failed writes as such goes on doing so."""


CAUSES = {  # a failed write's errno in the user's words (every message about files reads this)
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EISDIR: "it is a folder",
    errno.ENOTDIR: "a folder on its path is a file",
    errno.EEXIST: "a file is in the way",
}


def cause(error: OSError) -> str:
    """Why a write failed, in the user's words."""
    return CAUSES.get(error.errno or 0) or error.strerror or str(error) or type(error).__name__


def failure(path: Path, error: OSError) -> WriteFailed:
    """The failed write of `path`, said once (a failure already said is kept)."""
    if isinstance(error, WriteFailed):
        return error
    failed = WriteFailed(f"cannot write {path}: {cause(error)}")
    failed.errno, failed.filename = error.errno, str(path)  # still says its cause as an OSError
    return failed


@contextmanager
def replacing(path: Path, *, mode: int | None = None, suffix: str = ".tmp") -> Iterator[BinaryIO]:
    """Yield a binary file that replaces `path` when the block succeeds.

    mode: the final permissions; None means what open() would give (0666 less the
    umask). The temp file is 0600 until then. On error the temp file is removed and
    `path` is left as it was.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_prefix(path.name), suffix=suffix, dir=path.parent)
    except OSError as error:
        raise failure(path, error) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _default_mode() if mode is None else mode)
        os.replace(tmp, path)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        raise failure(path, error) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_TEMP_RE = re.compile(r"\A\..*\.(\d+)-[^.]*\.(?:part|tmp)\Z")


def _prefix(name: str) -> str:
    return f".{name}.{os.getpid()}-"


def temp_beside(directory: Path, name: str, suffix: str = ".part") -> Path:
    """A fresh hidden temp file in `directory` for `name`'s bytes (see `publish`)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=_prefix(name), suffix=suffix, dir=directory)
    except OSError as error:
        raise failure(directory / name, error) from None
    os.close(fd)
    return Path(tmp)


def publish(tmp: Path, candidates: Iterable[Path], *, mode: int | None = None) -> Path:
    """Give the complete file `tmp` the first of `candidates` that no file holds yet,
    never replacing one (a hard link fails if the name exists), and drop `tmp`.

    The bytes are fsynced first, so the name never shows a file shorter than written.
    Where hard links are not allowed, the name is taken with O_EXCL and the file
    renamed over it at once.
    """
    names = iter(candidates)
    first = next(names)
    try:
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, _default_mode() if mode is None else mode)
        return _link(tmp, itertools.chain([first], names))
    except OSError as error:
        raise failure(first, error) from None
    finally:
        tmp.unlink(missing_ok=True)


def _link(tmp: Path, candidates: Iterable[Path]) -> Path:
    for candidate in candidates:
        try:
            os.link(tmp, candidate)
            return candidate
        except FileExistsError:
            continue
        except PermissionError:  # no hard links here: take the name, then fill it at once
            if candidate.exists():
                continue
            os.close(os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            os.replace(tmp, candidate)
            return candidate
    raise FileExistsError(errno.EEXIST, f"no free name for {tmp.name}")


def sweep(directory: Path) -> int:
    """Remove the temp files that killed rshell processes left in `directory`; a live
    process's are kept. Returns how many were removed."""
    removed = 0
    try:
        names = os.listdir(directory)
    except OSError:
        return 0
    for name in names:
        match = _TEMP_RE.match(name)
        if match is None or _alive(int(match.group(1))):
            continue
        try:
            (directory / name).unlink()
            removed += 1
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process, or not a pid: leave it
    return True


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
