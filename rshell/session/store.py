"""Session persistence and the history file.

Named results survive restarts (SPEC 6): sessions live in one SQLite database that
any number of rshell processes share, a row per name (`session/shared.py`), so two
windows on one session both keep what they bound; this module names the places and
says a failure in one line.
The history file uses prompt-toolkit's FileHistory format, parsed here without
importing prompt-toolkit so the `history` builtin stays cheap in one-shots.
A line carrying a token is never written to either (SPEC 6: the token never appears
in history or saved scripts), and no stored value holds one (`session/secrets.py`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rshell.errors import RshellError, UsageError
from rshell.session.secrets import is_secret
from rshell.session.state import OPTIONS, Session

SESSION_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}\Z")


def data_dir() -> Path:
    """The user's data directory: $RSHELL_DATA_DIR, else the platform's (XDG aware)."""
    override = os.environ.get("RSHELL_DATA_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("rshell"))


def sessions_dir() -> Path:
    return data_dir() / "sessions"


def history_path() -> Path:
    return data_dir() / "history"


def session_path(name: str, scope: str = "") -> Path:
    """The old JSON file of a named session (it migrates once into the database of its
    folder); names are plain words so they cannot escape the dir. Sessions against
    another host than the real API (`scope`) live in a folder of their own: a `--local`
    result never shows up against api.replicate.com, nor the reverse."""
    if not SESSION_NAME_RE.match(name):
        raise UsageError(
            f"invalid session name {name!r}",
            "use letters, digits, '_', '-' or '.', starting with a letter or digit",
        )
    folder = sessions_dir() / scope if scope else sessions_dir()
    return folder / f"{name}.json"


# sessions -----------------------------------------------------------------------


def load_session(name: str, scope: str = "") -> Session:
    """The stored session NAME as every process left it, or a fresh one.

    Sessions live in one SQLite database shared by every rshell process
    (`session/shared.py`); an old `NAME.json` migrates into it once. A damaged
    database or JSON file is set aside as `….bad-<time>` with a one-line notice and
    the session starts empty: the shell always starts, nothing is silently overwritten.
    A database that cannot be read (permission denied, say) is said in one line too.
    """
    from rshell.session import shared

    legacy = session_path(name, scope)
    try:
        return shared.load(legacy.parent, scope, name, legacy)
    except shared.StoreFailure as failure:
        raise RshellError(f"cannot read session '{name}': {failure.cause} ({failure.where})") from None


def save_session(session: Session, secrets: Iterable[str] = ()) -> None:
    """Write the names this process changed (never another's); unserialisable values
    are stored as strings. A failure (disk full, read-only, …) is one RshellError that
    names the session, the cause and the folder, and what the server already holds."""
    from rshell.session import shared

    folder = session_path(session.name, session.scope).parent
    try:
        shared.save(folder, session, secrets)
    except shared.StoreFailure as failure:
        raise RshellError(
            f"cannot save session '{session.name}': {failure.cause} ({failure.where})", _unsaved_runs(session)
        ) from None


def refresh_session(session: Session) -> bool:
    """Take in the bindings other processes saved since; True when something changed.
    Never raises: a session that cannot be read now is read again at the next prompt."""
    from rshell.session import shared

    try:
        return shared.refresh(session_path(session.name, session.scope).parent, session)
    except shared.StoreFailure:
        return False


def stored_session_names() -> list[str]:
    """The names of the stored sessions, in any scope (for `--session` completion)."""
    from rshell.session import shared

    names = set(shared.session_names(sessions_dir()))
    with contextlib.suppress(OSError):
        names.update(p.stem for p in sessions_dir().glob("*.json") if SESSION_NAME_RE.match(p.stem))
    return sorted(names)


def _unsaved_runs(session: Session) -> str | None:
    """The runs the server already holds that the session could not keep, by id."""
    from rshell.session import shared

    synced = session.synced if isinstance(session.synced, shared.Synced) else shared.Synced()
    held = []
    for (kind, name), text in shared.entries_of(session).items():
        if kind != "var" or synced.entries.get((kind, name)) == text:
            continue
        value = session.variables.get(name)
        runs = value if isinstance(value, list) else [value]
        ids = [r["id"] for r in runs if isinstance(r, dict) and isinstance(r.get("id"), str)]
        if ids:
            held.append(f"{name} = {', '.join(ids[:3])}{', …' if len(ids) > 3 else ''}")
    if not held:
        return None
    return "not kept, but on the server: " + "; ".join(held) + " (`prediction show ID` finds it again)"


def load_json_session(path: Path, name: str) -> Session | None:
    """An old JSON session file (before sessions were shared), for its one migration;
    None when there is none, or it was damaged (then set aside, as `NAME.json.bad-<time>`)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RshellError(f"cannot read session file {path}: {exc.strerror}") from None
    try:
        return _session_from_json(name, _parse_session(raw))
    except _Damaged as damage:
        from rshell.atomic import set_aside  # tempfile and shutil: only for a damaged file

        set_aside(path, str(damage))
        return None


class _Damaged(Exception):
    """A session file that cannot be what an earlier rshell wrote (the reason is the text)."""


_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "variables": dict,
    "aliases": dict,
    "options": dict,
    "statements": list,
    "text_outputs": list,
    "name": str,
    "saved_at": str,
}


def _parse_session(raw: bytes) -> dict[str, Any]:
    try:
        stored = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _Damaged("not UTF-8") from None
    except RecursionError:
        raise _Damaged("nested too deeply") from None
    except ValueError as exc:
        raise _Damaged(f"not JSON: {getattr(exc, 'msg', exc)}") from None
    if not isinstance(stored, dict):
        raise _Damaged("not a JSON object")
    for key, kind in _FIELD_TYPES.items():
        if key in stored and not isinstance(stored[key], kind):
            raise _Damaged(f"'{key}' has the wrong type")
    if not all(isinstance(v, str) for v in stored.get("aliases", {}).values()):
        raise _Damaged("an alias is not text")
    if not all(isinstance(v, str) for v in stored.get("statements", [])):
        raise _Damaged("a statement is not text")
    return stored


def _session_from_json(name: str, stored: dict[str, Any]) -> Session:
    """Rebuild a Session, keeping only known options with values `set` accepts, and
    non-secret statements."""
    session = Session(name=name)
    session.variables = dict(stored.get("variables") or {})
    session.last = stored.get("last")
    aliases = stored.get("aliases") or {}
    session.aliases = {str(k): v for k, v in aliases.items() if not is_secret(v)}
    options = stored.get("options") or {}
    session.options.update({k: v for k, v in options.items() if k in OPTIONS and OPTIONS[k].accepts(v)})
    statements = stored.get("statements") or []
    session.statements = [s for s in statements if not is_secret(s)]
    session.text_outputs = {i for i in stored.get("text_outputs") or () if isinstance(i, str)}
    return session


# history ------------------------------------------------------------------------


def append_history(entry: str, path: Path | None = None) -> bool:
    """Append one entry in FileHistory's format; secret entries are refused (False)."""
    if not entry.strip() or is_secret(entry):
        return False
    path = path or history_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    from datetime import datetime

    chunk = f"\n# {datetime.now()}\n" + "".join(f"+{line}\n" for line in entry.split("\n"))
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "ab") as handle:
        handle.write(chunk.encode("utf-8"))
    return True


def read_history(limit: int | None = None, path: Path | None = None) -> list[str]:
    """Entries of this and earlier sessions, oldest first; the last `limit` if given."""
    path = path or history_path()
    try:
        data = path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    entries = [e for e in _parse_history(data) if not is_secret(e)]
    if limit is not None:
        entries = entries[-limit:] if limit > 0 else []
    return entries


def _parse_history(data: str) -> list[str]:
    """FileHistory's format: `+`-prefixed lines form an entry; other lines separate."""
    entries: list[str] = []
    lines: list[str] = []
    for line in data.splitlines(keepends=True):
        if line.startswith("+"):
            lines.append(line[1:])
        elif lines:
            entries.append("".join(lines)[:-1])
            lines = []
    if lines:
        entries.append("".join(lines).removesuffix("\n"))
    return entries
