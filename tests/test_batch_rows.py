"""`batch --inputs` rows as a stream: a JSON list is read in chunks, item by item, so
a large file is never in memory whole; items cut by a chunk boundary still parse, and
a malformed list is a one-line error naming the file."""

from __future__ import annotations

import io
import json

import pytest

from rshell.commands import batch_rows
from rshell.commands.batch_rows import open_rows
from rshell.errors import UsageError


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_rows._JsonListReader, "CHUNK", 5)  # every item crosses a boundary


def rows_of(text: str) -> list[dict]:
    return [row for _, row in batch_rows._json_list(io.StringIO(text), "rows.json")]


def test_items_cut_by_chunk_boundaries_parse_whole(small_chunks: None) -> None:
    rows = [{"x": n, "text": "a, ] [ {" * (n % 3), "big": 1234567890123} for n in range(40)]
    assert rows_of(json.dumps(rows, indent=2)) == rows
    assert rows_of(" [ ] ") == []
    assert rows_of('[{"a": 1} , {"b": 2}]\n') == [{"a": 1}, {"b": 2}]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"x": 1}', "expected a JSON list of input objects"),
        ('[{"x": 1}', "expected ',' or ']' between items"),
        ('[{"x": 1},]', "not JSON (Expecting value)"),
        ('[{"x": 1}] [', "text after the end of the list"),
        ("[1]", "row 1: expected an object of inputs, got int"),
    ],
)
def test_a_malformed_list_is_one_line_naming_the_file(text: str, message: str, small_chunks: None) -> None:
    with pytest.raises(UsageError) as caught:
        rows_of(text)
    assert caught.value.message.startswith("rows.json") and message in caught.value.message


def test_the_first_row_comes_before_the_file_is_read_through(tmp_path) -> None:
    path = tmp_path / "rows.json"
    path.write_text(json.dumps([{"x": n, "pad": "p" * 100} for n in range(20_000)]))  # ~2.4 MB
    source = open_rows(str(path))
    rows = source.rows()
    assert next(rows) == (1, {"x": 0, "pad": "p" * 100}, False)
    reader = rows.gi_frame.f_locals  # the generator is paused inside the file's `with`
    handle = reader["handle"]
    assert handle.tell() < 200_000 < path.stat().st_size
    rows.close()
