"""The sandbox's state: records by kind in one SQLite database, plus blobs on disk.

Layout under the data directory:

    sandbox.db (-wal, -shm)   every record, one row each, and the settings (WAL mode)
    blobs/<id>                uploaded files and prediction output files
    json-migrated-<time>/     the old one-JSON-file-per-record state, once migrated

A record is a JSON object; the fields listings order and filter on (`created_at`,
`model`, `status`, and `size`, the bytes of its public fields: keys starting with `_`
are the sandbox's bookkeeping) are columns with indexes, so a page of the newest runs
reads that page and no more. Each write is one transaction: `kill -9` leaves every
committed record whole and none half-written. A row that cannot be read (not JSON,
or without a field a view needs: `NEEDED`) is skipped with one log line, never
breaking a listing.

Two kinds of record live in memory as well: built-in models and versions
(`persist=False`: never stored, registered again at each start) and runs in flight
(`hold=True` until `release`): their workers change them many times a second (logs,
tokens), readers see those changes at once, and the row is written at each step
that matters (`edit`, `save`). One re-entrant lock guards the connection and the
records in memory; worker threads and request handlers share it.
"""

from __future__ import annotations

import copy
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from rshell import atomic
from rshell.sandbox.edge import clean

Record = dict[str, Any]
Key = tuple[str, str]  # (created_at, key): a row's place in a newest-first listing

KINDS = ("models", "versions", "predictions", "trainings", "deployments", "files", "deliveries")
DATABASE = "sandbox.db"
LOG = logging.getLogger("rshell.sandbox")

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    model TEXT,
    status TEXT,
    size INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS records_newest ON records (kind, created_at, key);
CREATE INDEX IF NOT EXISTS records_by_model ON records (kind, model, status, created_at, key);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


# The fields every reader of a stored record relies on (the views index them), by kind:
# a row without one, or with one of another type, is skipped like one that is not JSON.
NEEDED: dict[str, dict[str, type | tuple[type, ...]]] = {
    "models": {"owner": str, "name": str},
    "versions": {"id": str, "model": str, "created_at": str},
    "predictions": {"id": str, "status": str, "created_at": str},
    "trainings": {"id": str, "status": str, "created_at": str},
    "deployments": {"owner": str, "name": str, "releases": list},
    "files": {"id": str, "content_type": str, "size": int, "sha256": str, "created_at": str, "expires_at": str},
    "deliveries": {"id": str, "filename": str, "content_type": str},
}


class StoreUnavailable(Exception):
    """The data directory cannot hold the database (read-only, not a database, …)."""


@dataclass(frozen=True)
class Query:
    """Which rows of a kind a listing wants; every field is an indexed column."""

    model: str | None = None
    status: str | None = None
    unfinished: frozenset[str] | None = None  # statuses excluded (the terminal ones)
    max_size: int | None = None
    created_after: str | None = None  # exclusive bounds, in the API's date format
    created_before: str | None = None


def public_size(record: Record) -> int:
    """Bytes of a record's public JSON (what a view shows), stored as `size`."""
    return len(json.dumps({k: v for k, v in record.items() if not k.startswith("_")}, default=str))


class Store:
    """Records in SQLite (some also in memory); blobs as files beside it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.RLock()
        self._memory: dict[str, dict[str, Record]] = {kind: {} for kind in KINDS}
        self._volatile: dict[str, set[str]] = {kind: set() for kind in KINDS}
        self._skipped: set[tuple[str, str]] = set()
        self._depth = 0
        self._closed = False
        try:
            (root / "blobs").mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreUnavailable(f"cannot use the data directory {root}: {error.strerror or error}") from None
        self._db = _open(root / DATABASE)
        try:
            _migrate_json(self)
        except OSError as error:
            self.close()
            raise StoreUnavailable(f"cannot move the old JSON state of {root}: {error.strerror or error}") from None

    def close(self) -> None:
        """Close the database; later calls read nothing and write nothing (workers
        still finishing after shutdown must not reopen it)."""
        with self.lock:
            if not self._closed:
                self._closed = True
                self._db.close()

    # records -----------------------------------------------------------------------

    def get(self, kind: str, key: str) -> Record | None:
        """The record: the live one if in memory (mutate only under `lock`), else a
        fresh copy of its row (change it with `edit` or `put`)."""
        with self.lock:
            held = self._memory[kind].get(key)
            if held is not None:
                return held
            row = self._query("SELECT key, data FROM records WHERE kind = ? AND key = ?", (kind, key))
            found = self._decoded(kind, row)
            return found[0] if found else None

    def snapshot(self, kind: str, key: str) -> Record | None:
        """A copy taken under the lock, safe to render while workers mutate."""
        with self.lock:
            record = self.get(kind, key)
            return copy.deepcopy(record) if key in self._memory[kind] else record

    def put(self, kind: str, key: str, record: Record, *, persist: bool = True, hold: bool = False) -> Record:
        """Insert or replace. `persist=False` keeps it in memory only (built-in models);
        `hold=True` stores it and keeps the live record in memory until `release`."""
        with self.lock:
            if not persist:
                self._memory[kind][key] = record
                self._volatile[kind].add(key)
                return record
            self._volatile[kind].discard(key)
            self._write(kind, key, record)
            if hold or key in self._memory[kind]:
                self._memory[kind][key] = record
            return record

    @contextmanager
    def edit(self, kind: str, key: str) -> Iterator[Record | None]:
        """Read, change and write back one record under the lock (None: no such record).
        An exception in the block writes no row (a record in memory keeps what changed)."""
        with self.lock:
            record = self.get(kind, key)
            yield record
            if record is not None and key not in self._volatile[kind]:
                self._write(kind, key, record)

    def save(self, kind: str, key: str) -> None:
        """Write the current state of a held record (a run in flight) to its row."""
        with self.lock:
            record = self._memory[kind].get(key)
            if record is not None and key not in self._volatile[kind]:
                self._write(kind, key, record)

    def release(self, kind: str, key: str) -> None:
        """Stop holding a record in memory (its run finished; its row is current)."""
        with self.lock:
            if key not in self._volatile[kind]:
                self._memory[kind].pop(key, None)

    def delete(self, kind: str, key: str) -> Record | None:
        with self.lock:
            record = self.get(kind, key)
            self._memory[kind].pop(key, None)
            self._volatile[kind].discard(key)
            self._execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind, key))
            return record

    def values(
        self, kind: str, where: Callable[[Record], bool] | None = None, *, model: str | None = None
    ) -> list[Record]:
        """Copies of every record of a kind (optionally of one `model`, filtered)."""
        return [r for r in self.rows(kind, Query(model=model)) if where is None or where(r)]

    def rows(
        self,
        kind: str,
        query: Query = Query(),
        *,
        after: Key | None = None,
        backwards: bool = False,
        limit: int | None = None,
        where: Callable[[Record], bool] | None = None,
    ) -> list[Record]:
        """Copies of the records that match, newest first by (created_at, key), those
        after the row at `after`; `backwards`: those before it, nearest first."""
        with self.lock:
            sql, params = _select(kind, query, after, backwards)
            found: list[tuple[Key, Record]] = []
            for created, key, data in self._cursor(sql, params):
                if key in self._memory[kind]:
                    record: Record | None = copy.deepcopy(self._memory[kind][key])
                else:
                    record = self._decode(kind, key, data)
                if record is not None and (where is None or where(record)):
                    found.append(((created, key), record))
                    if limit is not None and len(found) >= limit:
                        break
            found += self._volatile_rows(kind, query, after, backwards, where)
        found.sort(key=lambda pair: pair[0], reverse=not backwards)
        return [record for _, record in (found if limit is None else found[:limit])]

    def count(self, kind: str, query: Query = Query()) -> int:
        """How many stored records match (indexed columns only: one COUNT, no decoding);
        memory-only records are not counted."""
        with self.lock:
            sql, params = _select(kind, query, None, False)
            sql = "SELECT COUNT(*)" + sql[sql.index(" FROM ") : sql.index(" ORDER BY ")]
            row = self._db.execute(sql, params).fetchone() if not self._closed else None
            return int(row[0]) if row else 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Many writes committed together (or none): migration, bulk inserts."""
        with self.lock:
            if self._depth == 0:
                self._execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._execute("ROLLBACK")
                raise
            self._depth -= 1
            if self._depth == 0:
                self._execute("COMMIT")

    # blobs -------------------------------------------------------------------------

    def blob_path(self, blob_id: str) -> Path:
        return self.root / "blobs" / blob_id

    def write_blob(self, blob_id: str, data: bytes) -> None:
        with atomic.replacing(self.blob_path(blob_id)) as handle:
            handle.write(data)

    def delete_blob(self, blob_id: str) -> None:
        self.blob_path(blob_id).unlink(missing_ok=True)

    # settings ----------------------------------------------------------------------

    def setting(self, name: str, make: Callable[[], Any]) -> Any:
        """A persisted singleton value (the webhook secret), created once."""
        with self.lock:
            row = self._query("SELECT name, value FROM settings WHERE name = ?", (name,))
            if row:
                return json.loads(row[0][1])
            value = make()
            self._execute("INSERT INTO settings (name, value) VALUES (?, ?)", (name, json.dumps(value)))
            return value

    # internals ---------------------------------------------------------------------

    def _write(self, kind: str, key: str, record: Record) -> None:
        data = json.dumps(record, default=str)
        model, status = record.get("model"), record.get("status")
        self._execute(
            "INSERT OR REPLACE INTO records (kind, key, created_at, model, status, size, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                kind,
                key,
                _created(record),
                model if isinstance(model, str) else None,
                status if isinstance(status, str) else None,
                public_size(record),
                data,
            ),
        )

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        if not self._closed:
            self._db.execute(sql, params)

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[str, str]]:
        return [] if self._closed else self._db.execute(sql, params).fetchall()

    def _cursor(self, sql: str, params: tuple[Any, ...]) -> Iterable[tuple[str, str, str]]:
        return () if self._closed else self._db.execute(sql, params)

    def _decoded(self, kind: str, rows: list[tuple[str, str]]) -> list[Record]:
        return [r for r in (self._decode(kind, key, data) for key, data in rows) if r is not None]

    def _decode(self, kind: str, key: str, data: Any) -> Record | None:
        """The record of a row, or None (said once per row) when it cannot be read."""
        try:
            record = json.loads(data, parse_constant=_no_constant)
            if not isinstance(record, dict):
                raise ValueError(f"a JSON {type(record).__name__}, not an object")
            _check_fields(kind, record)
            if "\\ud" in data:  # maybe a lone surrogate (an old store kept them): no response could carry it
                record = clean(record)
            return record
        except (TypeError, ValueError, RecursionError) as error:
            if (kind, key) not in self._skipped:
                self._skipped.add((kind, key))
                reason = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
                LOG.warning("skipped the stored %s record %r: it cannot be read (%s)", kind[:-1], key, reason)
            return None

    def _volatile_rows(
        self, kind: str, query: Query, after: Key | None, backwards: bool, where: Callable[[Record], bool] | None
    ) -> list[tuple[Key, Record]]:
        """The memory-only records a query selects (built-ins), as copies."""
        found = []
        for key in self._volatile[kind]:
            record = self._memory[kind][key]
            place = (_created(record), key)
            if after is not None and (place <= after if backwards else place >= after):
                continue
            if _matches(record, query) and (where is None or where(record)):
                found.append((place, copy.deepcopy(record)))
        return found


def _check_fields(kind: str, record: Record) -> None:
    """Raise ValueError naming the first field a view needs that the record lacks."""
    for name, kinds in NEEDED.get(kind, {}).items():
        value = record.get(name)
        if not isinstance(value, kinds) or isinstance(value, bool):
            raise ValueError(f"no {name}" if value is None else f"{name} is a {type(value).__name__}")
    if kind == "deployments" and not record["releases"]:
        raise ValueError("no releases")


def _no_constant(name: str) -> None:
    """NaN and Infinity (an old store kept them) read as null, as the edge cleans them."""
    return None


def _created(record: Record) -> str:
    return str(record.get("created_at") or "")


def _matches(record: Record, query: Query) -> bool:
    created = _created(record)
    return (
        (query.model is None or record.get("model") == query.model)
        and (query.status is None or record.get("status") == query.status)
        and (query.unfinished is None or record.get("status") not in query.unfinished)
        and (query.max_size is None or public_size(record) <= query.max_size)
        and (query.created_after is None or created > query.created_after)
        and (query.created_before is None or created < query.created_before)
    )


def _select(kind: str, query: Query, after: Key | None, backwards: bool) -> tuple[str, tuple[Any, ...]]:
    """The SQL of a listing: indexed conditions, keyset position, newest first."""
    conditions: list[str] = ["kind = ?"]
    params: list[Any] = [kind]
    for column, op, value in (
        ("model", "=", query.model),
        ("status", "=", query.status),
        ("size", "<=", query.max_size),
        ("created_at", ">", query.created_after),
        ("created_at", "<", query.created_before),
    ):
        if value is not None:
            conditions.append(f"{column} {op} ?")
            params.append(value)
    if query.unfinished:
        conditions.append(f"status NOT IN ({', '.join('?' * len(query.unfinished))})")
        params += sorted(query.unfinished)
    if after is not None:
        conditions.append(f"(created_at, key) {'>' if backwards else '<'} (?, ?)")
        params += list(after)
    order = "ASC" if backwards else "DESC"
    where = " AND ".join(conditions)
    return f"SELECT created_at, key, data FROM records WHERE {where} ORDER BY created_at {order}, key {order}", tuple(
        params
    )


def _open(path: Path) -> sqlite3.Connection:
    """The database in WAL mode, its schema made, and proof that it can be written."""
    db = None
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: a killed process loses no commit
        db.executescript(SCHEMA + "PRAGMA user_version = 1;")  # a write: fails if read-only
        return db
    except sqlite3.Error as error:
        if db is not None:
            db.close()
        raise StoreUnavailable(f"cannot use the sandbox database {path}: {error}") from None


def _migrate_json(store: Store) -> None:
    """Move a data directory of the old JSON store (`state/<kind>/<quoted key>.json`,
    `state/<setting>.json`) into the database once, then set its files aside."""
    from datetime import datetime

    state = store.root / "state"
    if not state.is_dir():
        return
    count = 0
    with store.transaction():
        for kind in KINDS:
            folder = state / kind
            for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
                record = store._decode(kind, unquote(path.stem), _read(path))
                if record is not None:
                    store.put(kind, unquote(path.stem), record)
                    count += 1
        for path in sorted(state.glob("*.json")):
            value = _read(path)
            if value is not None and _is_json(value):
                store._execute(
                    "INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)", (path.stem, value.strip())
                )
    aside = store.root / f"json-migrated-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    state.rename(aside)
    LOG.warning("moved %d records of the old JSON state into %s; the old files are in %s", count, DATABASE, aside)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _read(path: Path) -> str | None:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
