"""Sessions shared by any number of rshell processes: one SQLite database, one row per name.

Two windows on one session, or two one-shots run at once, must both keep what they
bound. So nothing is ever rewritten whole: every binding, alias, option, `_` and
streamed-text mark is a row keyed by (scope, session, kind, name), and a save writes
only the rows this process changed since it last looked (an unset writes a tombstone,
so the others see it too). Each write carries a sequence number; `refresh` reads the
rows others wrote since, which is how a REPL sees at its next prompt what another
process bound. Statements (for `save`) are appended, never rewritten.

The database runs in WAL mode (readers never wait for a writer) with a generous busy
timeout; a write is one `BEGIN IMMEDIATE` transaction, so a failed one (disk full,
read-only) changes nothing. A file that is not a database is set aside as
`sessions.db.bad-<time>` like any damaged file, and the old JSON files migrate once.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager, suppress
from pathlib import Path
from typing import Any

import msgspec

from rshell.atomic import set_aside
from rshell.rendering.output import as_json, json_default
from rshell.session.state import OPTIONS, Session

DB_NAME = "sessions.db"
BUSY_TIMEOUT = 60.0  # seconds a writer waits for another's transaction (a busy machine)
_DAMAGED = {"SQLITE_NOTADB", "SQLITE_CORRUPT"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    scope TEXT NOT NULL, session TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
    value TEXT, seq INTEGER NOT NULL,
    PRIMARY KEY (scope, session, kind, name));
CREATE INDEX IF NOT EXISTS entries_seq ON entries (scope, session, seq);
CREATE TABLE IF NOT EXISTS statements (
    id INTEGER PRIMARY KEY AUTOINCREMENT, scope TEXT NOT NULL, session TEXT NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS statements_session ON statements (scope, session, id);
"""

Key = tuple[str, str]  # (kind, name): kind is var, alias, option, last or text


class Synced(msgspec.Struct):
    """What this process last read from or wrote to the database, per name: a save
    writes only the names whose value differs from this (its own changes)."""

    entries: dict[Key, str] = msgspec.field(default_factory=dict)
    seq: int = 0  # the newest row seen
    statement_id: int = 0  # the newest statement seen
    statement_count: int = 0  # len(session.statements) then: later ones are this process's


class StoreFailure(Exception):
    """A database operation failed on the machine's side (full, read-only, denied)."""

    def __init__(self, cause: str, where: Path) -> None:
        super().__init__(cause)
        self.cause = cause
        self.where = where


def database_path(folder: Path) -> Path:
    return folder / DB_NAME


# -- opening -----------------------------------------------------------------------------


@contextmanager
def _opened(folder: Path, *, write: bool) -> Iterator[sqlite3.Connection]:
    """A connection to the sessions database (made if need be), closed after."""
    connection = _connect(folder, write=write)
    with closing(connection):
        try:
            yield connection
        except sqlite3.Error as error:
            raise _failure(error, folder) from None


def _connect(folder: Path, *, write: bool) -> sqlite3.Connection:
    """WAL mode for sharing; for reading only, a database that cannot be opened that
    way (a full or read-only disk has no room for its shared-memory file) is read as
    it stands, which is all anyone can do there."""
    path = database_path(folder)
    try:
        if write:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # private from its first byte
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.executescript(_SCHEMA)  # nothing to write when the tables are there
        except BaseException:
            connection.close()
            raise
        return connection
    except (OSError, sqlite3.Error) as error:
        failed = _failure(error, folder)
        if write or isinstance(failed, _Damaged):
            raise failed from None
    try:
        return sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True, isolation_level=None)
    except sqlite3.Error:
        raise failed from None


def _failure(error: BaseException, folder: Path) -> Exception:
    """The cause of a failed database operation in a few words; damage is its own case."""
    from rshell.atomic import cause

    name = getattr(error, "sqlite_errorname", "") or ""
    if name in _DAMAGED:
        return _Damaged(str(error))
    if isinstance(error, OSError):
        return StoreFailure(cause(error), folder)
    return StoreFailure(_sqlite_cause(name, str(error), folder), folder)


def _sqlite_cause(name: str, text: str, folder: Path) -> str:
    """SQLite's code, or the disk's state when the code says only that I/O failed."""
    if name == "SQLITE_FULL" or (name.startswith("SQLITE_IOERR") and _full(folder)):
        return "disk full"
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_PERM", "SQLITE_AUTH")):
        if database_path(folder).is_dir():
            return f"{DB_NAME} is a folder"
        if _read_only_fs(folder):
            return "read-only file system"
        if _full(folder):
            return "disk full"
        if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
            return "permission denied"
    if name in ("SQLITE_BUSY", "SQLITE_LOCKED"):
        return "another rshell holds the session for too long"
    return text or name


def _nearest(folder: Path) -> Path | None:
    return next((place for place in (folder, *folder.parents) if place.exists()), None)


def _read_only_fs(folder: Path) -> bool:
    place = _nearest(folder)
    try:
        return place is not None and bool(os.statvfs(place).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _full(folder: Path) -> bool:
    place = _nearest(folder)
    try:
        return place is not None and os.statvfs(place).f_bavail == 0
    except OSError:
        return False


class _Damaged(Exception):
    """The database file is not one SQLite can read (the reason is the text)."""


def _set_aside_database(folder: Path, why: str) -> bool:
    """Move a damaged database (and its WAL) aside; False when that failed."""
    path = database_path(folder)
    aside = set_aside(path, why)
    if aside is None:
        return False
    for suffix in ("-wal", "-shm"):  # they belong to the damaged file, never to a fresh one
        extra = path.with_name(path.name + suffix)
        with suppress(OSError):
            os.replace(extra, aside.with_name(aside.name + suffix))
    return True


# -- what a session holds, as rows ---------------------------------------------------------


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=json_default, separators=(",", ":"))


def entries_of(session: Session, secrets: Iterable[str] = ()) -> dict[Key, str]:
    """Every persisted name of the session and its stored text, none holding a token."""
    from rshell.session.secrets import holds_secret, redact

    secrets = tuple(secrets)
    rows: dict[Key, str] = {}
    for name, value in session.variables.items():
        rows["var", name] = _text(redact(as_json(value), secrets))
    if session.last is not None:
        rows["last", "_"] = _text(redact(as_json(session.last), secrets))
    for name, text in session.aliases.items():
        if not holds_secret(text, secrets):
            rows["alias", name] = _text(text)
    for name, value in session.options.items():
        if name in OPTIONS:
            rows["option", name] = _text(redact(value, secrets))
    for run_id in session.text_outputs & _bound_ids(session):
        rows["text", run_id] = "true"
    return rows


def _bound_ids(session: Session) -> set[str]:
    """The ids of the runs the session still holds (named, `_`, or a batch's rows)."""
    values = [*session.variables.values(), session.last]
    runs = [row for v in values for row in (v if isinstance(v, list) else [v])]
    return {run["id"] for run in runs if isinstance(run, dict) and isinstance(run.get("id"), str)}


def _apply(session: Session, key: Key, text: str | None) -> None:
    """Put one stored row into the session (None: the name was unset); rows that are
    not what a save writes are skipped, so a tampered database cannot break the shell."""
    from rshell.session.secrets import is_secret

    kind, name = key
    try:
        value = None if text is None else json.loads(text)
    except (ValueError, RecursionError):
        return
    if kind == "var":
        if text is None:
            session.variables.pop(name, None)
        else:
            session.variables[name] = value
    elif kind == "last":
        session.last = value
    elif kind == "alias":
        if text is None:
            session.aliases.pop(name, None)
        elif isinstance(value, str) and not is_secret(value):
            session.aliases[name] = value
    elif kind == "option" and name in OPTIONS:
        option = OPTIONS[name]
        session.options[name] = value if option.accepts(value) else option.default
    elif kind == "text":
        if text is None:
            session.text_outputs.discard(name)
        else:
            session.text_outputs.add(name)


# -- load, save, refresh ---------------------------------------------------------------------


def load(folder: Path, scope: str, name: str, legacy: Path) -> Session:
    """The session NAME as every process left it; the JSON file `legacy` migrates once."""
    session = Session(name=name, scope=scope)
    session.synced = Synced(entries=entries_of(session))
    try:
        stored = database_path(folder).exists() or legacy.exists()
    except OSError as error:  # a folder on the way that is not ours to read
        raise _failure(error, folder) from None
    if not stored:
        return session  # nothing stored yet: no file is made until something is saved
    try:
        with _opened(folder, write=legacy.exists()) as db:
            if legacy.exists():
                _migrate(db, scope, name, legacy)
            _pull(db, session)
    except _Damaged as damage:
        _set_aside_database(folder, str(damage))
        session = Session(name=name, scope=scope)
        session.synced = Synced(entries=entries_of(session))
    return session


def save(folder: Path, session: Session, secrets: Iterable[str] = ()) -> None:
    """Write what this process changed, name by name, then take in what others wrote."""
    synced = _synced(session)
    current = entries_of(session, secrets)
    changed = {key: current.get(key) for key in current.keys() | synced.entries.keys()}
    changed = {key: text for key, text in changed.items() if text != synced.entries.get(key)}
    new_statements = _new_statements(session, synced, secrets)
    if not changed and not new_statements:
        refresh(folder, session)  # nothing of ours to write: never fail for want of room
        return
    try:
        with _opened(folder, write=True) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                _pull(db, session, skip=set(changed))
                seq = _next_seq(db)
                db.executemany(
                    "INSERT OR REPLACE INTO entries (scope, session, kind, name, value, seq) VALUES (?, ?, ?, ?, ?, ?)",
                    [(session.scope, session.name, kind, name, text, seq) for (kind, name), text in changed.items()],
                )
                ids = [
                    db.execute(
                        "INSERT INTO statements (scope, session, text) VALUES (?, ?, ?)",
                        (session.scope, session.name, text),
                    ).lastrowid
                    for text in new_statements
                ]
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
    except _Damaged as damage:
        if not _set_aside_database(folder, str(damage)):
            raise StoreFailure(f"{DB_NAME} is damaged and cannot be moved aside", folder) from None
        session.synced = Synced()
        save(folder, session, secrets)
        return
    for key, text in changed.items():
        if text is None:
            synced.entries.pop(key, None)
        else:
            synced.entries[key] = text
    synced.seq = max(synced.seq, seq)
    synced.statement_id = max([synced.statement_id, *(i or 0 for i in ids)])
    synced.statement_count = len(session.statements)


def refresh(folder: Path, session: Session) -> bool:
    """Take in what other processes wrote since this one last looked; True if anything
    changed. A name this process changed and has not saved yet keeps its own value."""
    if not isinstance(session.synced, Synced) or not _exists(database_path(folder)):
        return False  # a session made in memory (not loaded) is nobody else's
    synced = session.synced
    before = (synced.seq, synced.statement_id)
    try:
        with _opened(folder, write=False) as db:
            current = entries_of(session)
            pending = {
                key for key in current.keys() | synced.entries.keys() if current.get(key) != synced.entries.get(key)
            }
            _pull(db, session, skip=pending)
    except _Damaged:
        return False  # the next save sets it aside and says so
    return (synced.seq, synced.statement_id) != before


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:
        return False  # not ours to read: as good as absent for a look


def _synced(session: Session) -> Synced:
    if not isinstance(session.synced, Synced):  # a session made in memory, never loaded
        session.synced = Synced(entries=entries_of(Session(name=session.name)))
    return session.synced


def _new_statements(session: Session, synced: Synced, secrets: Iterable[str]) -> list[str]:
    from rshell.session.secrets import holds_secret

    secrets = tuple(secrets)
    start = min(synced.statement_count, len(session.statements))
    return [s for s in session.statements[start:] if not holds_secret(s, secrets)]


def _next_seq(db: sqlite3.Connection) -> int:
    (top,) = db.execute("SELECT COALESCE(MAX(seq), 0) FROM entries").fetchone()
    return int(top) + 1


def _pull(db: sqlite3.Connection, session: Session, *, skip: frozenset[Key] | set[Key] = frozenset()) -> None:
    """Rows and statements newer than what the session has seen, applied to it."""
    from rshell.session.secrets import is_secret

    synced = _synced(session)
    rows = db.execute(
        "SELECT kind, name, value, seq FROM entries WHERE scope = ? AND session = ? AND seq > ? ORDER BY seq",
        (session.scope, session.name, synced.seq),
    ).fetchall()
    for kind, name, text, seq in rows:
        synced.seq = max(synced.seq, int(seq))
        key = (str(kind), str(name))
        if key in skip:
            continue
        _apply(session, key, text if text is None else str(text))
    statements = db.execute(
        "SELECT id, text FROM statements WHERE scope = ? AND session = ? AND id > ? ORDER BY id",
        (session.scope, session.name, synced.statement_id),
    ).fetchall()
    if statements:
        mine = session.statements[synced.statement_count :]
        theirs = [str(text) for _id, text in statements if isinstance(text, str) and not is_secret(text)]
        session.statements[synced.statement_count :] = theirs + mine
        synced.statement_count += len(theirs)
        synced.statement_id = max(int(i) for i, _text in statements)
    # what is now in the session is what the database holds, except the skipped names
    stored = entries_of(session)
    for key in {*stored, *synced.entries} - skip:
        if key in stored:
            synced.entries[key] = stored[key]
        else:
            synced.entries.pop(key, None)


def _migrate(db: sqlite3.Connection, scope: str, name: str, legacy: Path) -> None:
    """Move an old JSON session file into the database once, then remove it (an old
    file may hold a token an older rshell wrote); rows already in the database (another
    process's) win, and a marker row keeps a file that comes back from being read again."""
    from rshell.session.secrets import holds_secret
    from rshell.session.store import load_json_session

    stored = load_json_session(legacy, name)  # sets a damaged file aside itself
    if stored is None:
        return
    secrets = _tokens_in_use()
    marker = (scope, name, "meta", "migrated")
    db.execute("BEGIN IMMEDIATE")
    try:
        done = db.execute(
            "SELECT 1 FROM entries WHERE scope = ? AND session = ? AND kind = ? AND name = ?", marker
        ).fetchone()
        if done is None:
            seq = _next_seq(db)
            db.executemany(
                "INSERT OR IGNORE INTO entries (scope, session, kind, name, value, seq) VALUES (?, ?, ?, ?, ?, ?)",
                [(scope, name, kind, key, text, seq) for (kind, key), text in entries_of(stored, secrets).items()],
            )
            db.executemany(
                "INSERT INTO statements (scope, session, text) VALUES (?, ?, ?)",
                [(scope, name, text) for text in stored.statements if not holds_secret(text, secrets)],
            )
            db.execute("INSERT INTO entries VALUES (?, ?, ?, ?, 'true', 0)", marker)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    with suppress(OSError):  # gone already: the marker row keeps it from being read twice
        legacy.unlink()  # what it held is in the database now, less any secret it kept


def _tokens_in_use() -> tuple[str, ...]:
    """The token configured now: an old file may hold it in a form no pattern knows."""
    from rshell.session.credentials import load_token, resolve_base_url

    try:
        token = load_token(resolve_base_url())
    except Exception:  # a damaged hosts file is said when the token is needed
        return ()
    return (token,) if token else ()


def session_names(folder: Path) -> list[str]:
    """Every stored session's name, in any scope (for `--session` completion)."""
    names: set[str] = set()
    if _exists(database_path(folder)):
        try:
            with _opened(folder, write=False) as db:
                names.update(str(n) for (n,) in db.execute("SELECT DISTINCT session FROM entries"))
        except (StoreFailure, _Damaged):
            pass
    return sorted(names)
