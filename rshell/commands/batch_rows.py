"""The rows of a `batch --inputs FILE`: JSON Lines, CSV (header row = keys) or a JSON
list, from a file or `-` (stdin).

Rows are read one at a time (a JSON list too, in chunks), so a batch of 10,000 rows
holds one row in memory, and the file is read twice: once to
validate every row before the first create, once to run them. Stdin is copied to a
temporary file first so it can be read twice too. Rows are numbered from 1 in file
order (JSON Lines and CSV skip blank lines, which get no number).
"""

from __future__ import annotations

import contextlib
import csv
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import msgspec

from rshell.errors import UsageError

FORMATS = ("jsonl", "csv", "json")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".json": "json"}


class RowSource(msgspec.Struct):
    """Where the rows come from; `rows()` may be called more than once."""

    path: Path
    shown: str  # the name errors use: the path as given, or `stdin`
    format: str
    temporary: bool = False

    def rows(self) -> Iterator[tuple[int, dict[str, Any], bool]]:
        """(row number, inputs, from CSV?) for every row; CSV values are strings."""
        with _readable(self.shown), self.path.open(encoding="utf-8", newline="") as handle:
            if self.format == "jsonl":
                yield from ((n, row, False) for n, row in _jsonl(handle, self.shown))
            elif self.format == "csv":
                yield from ((n, row, True) for n, row in _csv(handle, self.shown))
            else:
                yield from ((n, row, False) for n, row in _json_list(handle, self.shown))

    def close(self) -> None:
        if self.temporary:
            self.path.unlink(missing_ok=True)


def open_rows(name: str, stdin: IO[str] | None = None) -> RowSource:
    """The row source for `--inputs NAME`; a missing file or unknown kind is exit 2."""
    if name == "-":
        return _spool(stdin or sys.stdin)
    path = Path(name).expanduser()
    if not path.is_file():
        raise UsageError(
            f"cannot read --inputs {name}: no such file", "give a .jsonl, .csv or .json file, or - for stdin"
        )
    kind = _SUFFIXES.get(path.suffix.lower()) or _sniff(path, name)
    return RowSource(path, name, kind)


def _spool(stream: IO[str]) -> RowSource:
    with _readable("stdin"), tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".rows", delete=False) as handle:
        shutil.copyfileobj(stream, handle)
    path = Path(handle.name)
    return RowSource(path, "stdin", _sniff(path, "stdin"), temporary=True)


@contextlib.contextmanager
def _readable(shown: str) -> Iterator[None]:
    """A file that is not UTF-8 text, or JSON nested past what the decoder follows, is
    the user's input to fix: one line, not an internal error."""
    try:
        yield
    except UnicodeError:
        raise UsageError(f"{shown} is not UTF-8 text", "save it as UTF-8") from None
    except RecursionError:
        raise UsageError(f"{shown}: not JSON (nested too deep)") from None


def _sniff(path: Path, shown: str) -> str:
    """JSON list when the text starts with `[`, JSON Lines with `{`, else CSV."""
    with _readable(shown), path.open(encoding="utf-8") as handle:
        while True:
            char = handle.read(1)
            if not char or not char.isspace():
                break
    return {"[": "json", "{": "jsonl"}.get(char, "csv")


def _row(value: Any, shown: str, number: int) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UsageError(f"{shown} row {number}: expected an object of inputs, got {type(value).__name__}")
    return value


def _jsonl(handle: IO[str], shown: str) -> Iterator[tuple[int, dict[str, Any]]]:
    number = 0
    for line in handle:
        if not line.strip():
            continue
        number += 1
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{shown} row {number}: not JSON ({exc.msg})", "one JSON object per line") from None
        yield number, _row(value, shown, number)


def _csv(handle: IO[str], shown: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(handle)
    header = next(reader, None)
    if not header or not all(key.strip() for key in header):
        raise UsageError(f"{shown}: the first CSV row must name every column (the input keys)")
    keys = [key.strip() for key in header]
    number = 0
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        number += 1
        if len(cells) != len(keys):
            raise UsageError(f"{shown} row {number}: {len(cells)} cells for {len(keys)} columns")
        yield number, {key: cell for key, cell in zip(keys, cells, strict=True) if cell != ""}


def _json_list(handle: IO[str], shown: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """The items of a JSON list one at a time, read in chunks: a list of 10,000 rows
    is never in memory whole."""
    items = _JsonListReader(handle, shown)
    for number, item in enumerate(items, start=1):
        yield number, _row(item, shown, number)


class _JsonListReader:
    """Iterates the items of `[item, item, …]` from a text stream with
    `JSONDecoder.raw_decode`, reading more text whenever an item is cut off."""

    CHUNK = 1 << 16

    def __init__(self, handle: IO[str], shown: str) -> None:
        self.handle, self.shown = handle, shown
        self.text, self.at, self.eof = "", 0, False
        self.decoder = json.JSONDecoder()

    def __iter__(self) -> Iterator[Any]:
        if self._next_char() != "[":
            raise UsageError(f"{self.shown}: expected a JSON list of input objects")
        self.at += 1
        if self._next_char() == "]":
            self.at += 1
            return self._end()
        while True:
            yield self._item()
            char = self._next_char()
            self.at += 1
            if char == "]":
                return self._end()
            if char != ",":
                raise self._bad("expected ',' or ']' between items")

    def _item(self) -> Any:
        self._next_char()  # raw_decode takes no leading white space
        while True:
            try:
                value, end = self.decoder.raw_decode(self.text, self.at)
            except json.JSONDecodeError as exc:
                if self.eof:
                    raise UsageError(f"{self.shown}: not JSON ({exc.msg})") from None
                self._read()
                continue
            if end == len(self.text) and not self.eof:  # a number may go on in the next chunk
                self._read()
                continue
            self.at = end
            return value

    def _next_char(self) -> str:
        """The next character that is not white space (without taking it); "" at the end."""
        while True:
            while self.at < len(self.text) and self.text[self.at].isspace():
                self.at += 1
            if self.at < len(self.text) or self.eof:
                return self.text[self.at : self.at + 1]
            self._read()

    def _read(self) -> None:
        chunk = self.handle.read(max(self.CHUNK, len(self.text) - self.at))  # grows with a long item
        self.text = self.text[self.at :] + chunk
        self.at = 0
        self.eof = not chunk

    def _end(self) -> None:
        if self._next_char():
            raise self._bad("text after the end of the list")

    def _bad(self, what: str) -> UsageError:
        return UsageError(f"{self.shown}: not JSON ({what})")
