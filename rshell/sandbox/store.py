"""The sandbox's state: records by kind, persisted as atomic JSON files, plus blobs.

Layout under the data directory:

    state/<kind>/<quoted key>.json   one record per file (models, versions, …)
    state/secret.json                 the webhook signing secret
    blobs/<id>                        uploaded files and prediction output files

Every write goes to a temporary file in the same directory and is moved into place
with `os.replace`, so a crash never leaves a half-written record. One re-entrant lock
guards the in-memory dicts; worker threads and request handlers share it.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

Record = dict[str, Any]

KINDS = ("models", "versions", "predictions", "trainings", "deployments", "files", "deliveries")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so readers see the old or the new content, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Store:
    """Records in memory, mirrored to disk; blobs on disk only."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.RLock()
        self._data: dict[str, dict[str, Record]] = {kind: {} for kind in KINDS}
        self._volatile: dict[str, set[str]] = {kind: set() for kind in KINDS}
        (root / "blobs").mkdir(parents=True, exist_ok=True)
        self._load()

    # records -----------------------------------------------------------------------

    def get(self, kind: str, key: str) -> Record | None:
        """The live record (mutate only under `lock`, then `save`)."""
        return self._data[kind].get(key)

    def snapshot(self, kind: str, key: str) -> Record | None:
        """A deep copy taken under the lock, safe to render while workers mutate."""
        with self.lock:
            record = self._data[kind].get(key)
            return copy.deepcopy(record) if record is not None else None

    def put(self, kind: str, key: str, record: Record, *, persist: bool = True) -> Record:
        """Insert or replace; `persist=False` keeps it in memory only (built-in models)."""
        with self.lock:
            self._data[kind][key] = record
            if persist:
                self._volatile[kind].discard(key)
                self._write(kind, key, record)
            else:
                self._volatile[kind].add(key)
            return record

    def save(self, kind: str, key: str) -> None:
        """Persist the current state of a record that was mutated in place."""
        with self.lock:
            record = self._data[kind].get(key)
            if record is not None and key not in self._volatile[kind]:
                self._write(kind, key, record)

    def delete(self, kind: str, key: str) -> Record | None:
        with self.lock:
            record = self._data[kind].pop(key, None)
            self._volatile[kind].discard(key)
            self._path(kind, key).unlink(missing_ok=True)
            return record

    def values(self, kind: str, where: Callable[[Record], bool] | None = None) -> list[Record]:
        """Deep copies of every record of a kind (optionally filtered)."""
        with self.lock:
            return [copy.deepcopy(r) for r in self._data[kind].values() if where is None or where(r)]

    def matching(self, kind: str, where: Callable[[Record], bool]) -> list[Record]:
        """The live records that match, without copies: only for records that no longer
        change (finished runs), which callers render without mutating."""
        with self.lock:
            return [r for r in self._data[kind].values() if where(r)]

    def keys(self, kind: str) -> Iterable[str]:
        with self.lock:
            return list(self._data[kind])

    # blobs -------------------------------------------------------------------------

    def blob_path(self, blob_id: str) -> Path:
        return self.root / "blobs" / blob_id

    def delete_blob(self, blob_id: str) -> None:
        self.blob_path(blob_id).unlink(missing_ok=True)

    # settings ----------------------------------------------------------------------

    def setting(self, name: str, make: Callable[[], Any]) -> Any:
        """A persisted singleton value (the webhook secret), created once."""
        path = self.root / "state" / f"{name}.json"
        with self.lock:
            if path.exists():
                return json.loads(path.read_text("utf-8"))
            value = make()
            atomic_write_bytes(path, json.dumps(value).encode("utf-8"))
            return value

    # internals ---------------------------------------------------------------------

    def _path(self, kind: str, key: str) -> Path:
        return self.root / "state" / kind / f"{quote(key, safe='')}.json"

    def _write(self, kind: str, key: str, record: Record) -> None:
        atomic_write_bytes(self._path(kind, key), json.dumps(record, default=str).encode("utf-8"))

    def _load(self) -> None:
        for kind in KINDS:
            folder = self.root / "state" / kind
            if not folder.is_dir():
                continue
            for path in folder.glob("*.json"):
                try:
                    record = json.loads(path.read_text("utf-8"))
                except (OSError, ValueError):
                    continue  # an unreadable record is skipped, never fatal to startup
                self._data[kind][unquote(path.stem)] = record
