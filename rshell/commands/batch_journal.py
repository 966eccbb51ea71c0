"""The `batch --output` file: one JSON line per event of a row, append-only, each line
written through to the operating system before rshell goes on, so a batch killed at
any moment (even `kill -9`) leaves a file that says what exists. The file is also
fsynced, at most every FSYNC_EVERY seconds and on close (against a crash of the whole
machine): an fsync per line costs milliseconds on the event loop, which would make
rshell, not the API, the limit of a large batch.

A row gets a `sending` line (its input and the time) before its create goes out, a
`created` line the moment the create returns (the prediction id, before any further
waiting; the create itself waits a while, `Prefer: wait`), then one final line when it
finishes (with `--save`, `saved` says whether its files were written: a rerun saves
those that were not, without creating anything). A row whose last line is `sending`
was killed between the two: the create may exist, and a rerun looks for it before
sending again. Running the same batch with the same file reads it back: the last line
of each row wins. A torn last line (the kill landed mid-write) is ignored.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from rshell import atomic
from rshell.client.fields import TERMINAL_STATUSES

SENDING = "sending"  # the create is going out: it may exist without our knowing its id
CREATED = "created"  # the create returned; the prediction may still run
UNKNOWN = "unknown"  # the create was sent but its answer was lost: it may exist
DONE = TERMINAL_STATUSES | {UNKNOWN}  # rows a rerun does not touch
FSYNC_EVERY = 0.2  # seconds between fsyncs of the output file


def load(path: Path) -> dict[int, dict[str, Any]]:
    """Row number → that row's last record in an earlier run's output file."""
    records: dict[int, dict[str, Any]] = {}
    if not path.exists():
        return records
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a kill
            if isinstance(record, dict) and isinstance(record.get("row"), int):
                records[record["row"]] = {k: record.get(k) for k in ("id", "status", "at", "saved")}
    return records


def final_records(path: Path, rows: set[int]) -> dict[int, dict[str, Any]]:
    """Row number → the last final record (with its output) of each of `rows`: what a
    rerun binds for the rows an earlier run finished. `rows` bounds what is kept."""
    found: dict[int, dict[str, Any]] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and record.get("row") in rows and record.get("status") in DONE:
                found[record["row"]] = record
    return found


class Journal:
    """Appends records to the output file, one line each (see the module docstring)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._handle = None
        self._synced = time.monotonic()
        self._broken = False
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._handle = path.open("a", encoding="utf-8")
                if self._handle.tell() and not _ends_with_newline(path):
                    self._handle.write("\n")  # start clean after a torn line
                    self._handle.flush()
            except OSError as error:
                raise atomic.failure(path, error) from None

    def append(self, record: dict[str, Any]) -> None:
        """Write one record; a failed write (disk full, …) is one line naming the file,
        and the prediction the record names, which the server holds all the same."""
        if self._handle is None:
            return
        try:
            self._handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            self._handle.flush()  # in the kernel now: a killed rshell loses nothing
            if time.monotonic() - self._synced >= FSYNC_EVERY:
                self._sync()
        except OSError as error:
            failed = atomic.failure(self.path or Path("?"), error)
            if record.get("id"):
                failed.hint = f"row {record.get('row')}'s prediction {record['id']} is on the server all the same"
            self._broken = True
            raise failed from None

    def _sync(self) -> None:
        assert self._handle is not None
        os.fsync(self._handle.fileno())
        self._synced = time.monotonic()

    def close(self) -> None:
        if self._handle is None:
            return
        handle, self._handle = self._handle, None
        try:
            if not self._broken:
                os.fsync(handle.fileno())
            handle.close()
        except OSError as error:
            if not self._broken:  # a failure already said is not said twice
                raise atomic.failure(self.path or Path("?"), error) from None


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
