"""The `batch --output` file: one JSON line per event of a row, append-only, each line
flushed and fsynced before rshell goes on, so a batch killed at any moment (even
`kill -9`) leaves a file that says what exists.

A row gets a `sending` line (its input and the time) before its create goes out, a
`created` line the moment the create returns (the prediction id, before any waiting),
then one final line when it finishes. A row whose last line is `sending` was killed
between the two: the create may exist, and a rerun looks for it before sending again. Running the same batch with the
same file reads it back: the last line of each row wins. A torn last line (the kill
landed mid-write) is ignored.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rshell.client.fields import TERMINAL_STATUSES

SENDING = "sending"  # the create is going out: it may exist without our knowing its id
CREATED = "created"  # the create returned; the prediction may still run
UNKNOWN = "unknown"  # the create was sent but its answer was lost: it may exist
DONE = TERMINAL_STATUSES | {UNKNOWN}  # rows a rerun does not touch


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
                records[record["row"]] = {k: record.get(k) for k in ("id", "status", "at")}
    return records


class Journal:
    """Appends records to the output file durably, one line each."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._handle = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = path.open("a", encoding="utf-8")
            if self._handle.tell() and not _ends_with_newline(path):
                self._handle.write("\n")  # start clean after a torn line

    def append(self, record: dict[str, Any]) -> None:
        if self._handle is None:
            return
        self._handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
