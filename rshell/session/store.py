"""Session persistence and the history file.

Named results survive restarts (SPEC 6): each named session is one JSON file written
atomically (temp file + os.replace), so a crash mid-write never leaves a torn file.
The history file uses prompt-toolkit's FileHistory format, parsed here without
importing prompt-toolkit so the `history` builtin stays cheap in one-shots.
A line carrying a token is never written to either (SPEC 6: the token never appears
in history or saved scripts), and no stored value holds one: an alias that does is
refused, and bound results are written with the token replaced by REDACTED.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from rshell.atomic import set_aside, write_text
from rshell.errors import UsageError
from rshell.rendering.output import as_json, json_default
from rshell.session.state import OPTIONS, Session

SESSION_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}\Z")

# A Replicate token (r8_ + letters), an assignment of the token variable, an HTTP
# credential header: any of these makes a line secret.
_SECRET_RES = (
    re.compile(r"(?<![A-Za-z0-9])r8_[A-Za-z0-9_-]{6,}"),
    re.compile(r"REPLICATE_API_TOKEN\s*=\s*\S"),
    re.compile(r"\b(?:Bearer|Token)\s+[A-Za-z0-9_.~+/=-]{8,}", re.IGNORECASE),
)
_TOKEN_RE = _SECRET_RES[0]
REDACTED = "[redacted]"
_AUTH_LOGIN_RE = re.compile(r"(?:^|[\s;|])auth\s+login\b([^;|#\n]*)")
_HARMLESS_LOGIN_WORDS = frozenset({"--token-stdin", "--help", "--json"})


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
    """The file of a named session; names are plain words so they cannot escape the dir.
    Sessions against another host than the real API (`scope`) live in a folder of their
    own: a `--local` result never shows up against api.replicate.com, nor the reverse."""
    if not SESSION_NAME_RE.match(name):
        raise UsageError(
            f"invalid session name {name!r}",
            "use letters, digits, '_', '-' or '.', starting with a letter or digit",
        )
    folder = sessions_dir() / scope if scope else sessions_dir()
    return folder / f"{name}.json"


def scope_of(base_url: str) -> str:
    """The session scope of an API host: "" for the real API, else the host as a plain
    folder name (`--local` uses "local", whatever its port)."""
    from urllib.parse import urlsplit

    host = urlsplit(base_url).netloc.lower() if base_url else ""
    if host in ("", "api.replicate.com"):
        return ""
    return "host-" + "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in host)


# secrets ------------------------------------------------------------------------


def is_secret(line: str) -> bool:
    """Whether a line carries a token, so it must stay out of history and scripts."""
    if any(pattern.search(line) for pattern in _SECRET_RES):
        return True
    for match in _AUTH_LOGIN_RE.finditer(line):
        words = match.group(1).split()
        if any(word not in _HARMLESS_LOGIN_WORDS for word in words):
            return True
    return False


def holds_secret(text: str, secrets: Iterable[str] = ()) -> bool:
    """Whether `text` looks like a secret line or contains one of the tokens in use."""
    return is_secret(text) or _secret_pattern(secrets).search(text) is not None


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """`value` (JSON data) with every token in its strings, and keys, made REDACTED."""
    pattern = _secret_pattern(secrets)

    def clean(item: Any) -> Any:
        if isinstance(item, str):
            return pattern.sub(REDACTED, item)
        if isinstance(item, dict):
            return {clean(k) if isinstance(k, str) else k: clean(v) for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [clean(v) for v in item]
        return item

    return clean(value)


def _secret_pattern(secrets: Iterable[str]) -> re.Pattern[str]:
    """Replicate-shaped tokens, and the given ones long enough to be real (any case)."""
    from rshell.client.problems import real_secrets

    known = sorted(real_secrets(secrets), key=len, reverse=True)
    alternatives = [re.escape(s) for s in known] + [_TOKEN_RE.pattern]
    return re.compile("|".join(alternatives), re.IGNORECASE)


# sessions -----------------------------------------------------------------------


def load_session(name: str, scope: str = "") -> Session:
    """The stored session NAME, or a fresh one when none was saved yet.

    A damaged file (not UTF-8, not JSON, nested too deep, fields of the wrong type)
    is set aside as `NAME.json.bad-<time>` with a one-line notice, and the session
    starts empty: the shell always starts, and nothing is silently overwritten.
    """
    path = session_path(name, scope)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Session(name=name, scope=scope)
    except OSError as exc:
        raise UsageError(f"cannot read session file {path}: {exc.strerror}") from None
    try:
        session = _session_from_json(name, _parse_session(raw))
    except _Damaged as damage:
        set_aside(path, str(damage))
        session = Session(name=name)
    session.scope = scope
    return session


class _Damaged(Exception):
    """A session file that cannot be what save_session wrote (the reason is the text)."""


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


def session_to_json(session: Session, secrets: Iterable[str] = ()) -> dict[str, Any]:
    """What is persisted: results, aliases, options and the successful statements,
    none of them holding a token (`secrets`: the tokens in use, besides r8_… ones).

    In-flight predictions and the last status belong to the running process only.
    """
    secrets = tuple(secrets)
    return {
        "name": session.name,
        "saved_at": datetime.now().isoformat(timespec="seconds"),
        "variables": redact(as_json(session.variables), secrets),
        "last": redact(as_json(session.last), secrets),
        "aliases": {k: v for k, v in session.aliases.items() if not holds_secret(v, secrets)},
        "options": redact(session.options, secrets),
        "statements": [s for s in session.statements if not holds_secret(s, secrets)],
        "text_outputs": sorted(session.text_outputs & _bound_ids(session)),
    }


def _bound_ids(session: Session) -> set[str]:
    """The ids of the runs the session still holds (named, `_`, or a batch's rows)."""
    values = [*session.variables.values(), session.last]
    runs = [row for v in values for row in (v if isinstance(v, list) else [v])]
    return {run["id"] for run in runs if isinstance(run, dict) and isinstance(run.get("id"), str)}


def save_session(session: Session, secrets: Iterable[str] = ()) -> None:
    """Write the session atomically; unserialisable values are stored as strings."""
    text = json.dumps(session_to_json(session, secrets), indent=1, ensure_ascii=False, default=json_default)
    atomic_write(session_path(session.name, session.scope), text)


def atomic_write(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step, private to the user (mode 0600)."""
    write_text(path, text, mode=0o600)


# history ------------------------------------------------------------------------


def append_history(entry: str, path: Path | None = None) -> bool:
    """Append one entry in FileHistory's format; secret entries are refused (False)."""
    if not entry.strip() or is_secret(entry):
        return False
    path = path or history_path()
    path.parent.mkdir(parents=True, exist_ok=True)
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
