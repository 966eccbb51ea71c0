"""Listings page by keyset cursors (issue 9 item 10): rows created while a client
walks the pages neither repeat nor push older rows out of reach; a cursor that is not
one of ours is a 400 problem; a stored row that cannot be read is skipped with one log
line and never breaks a listing (item 8)."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import sqlite3

import pytest

PAGE = 5


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr("rshell.sandbox.pagination.PAGE_SIZE", PAGE)


def _run(fake, text: str) -> str:
    response = fake.client.post(
        "/models/test/echo/predictions", json={"input": {"text": text}}, headers={"Prefer": "wait"}
    )
    assert response.status_code == 201 and response.json()["status"] == "succeeded"
    return response.json()["id"]


def _ids(page: dict) -> list[str]:
    return [p["id"] for p in page["results"]]


def test_predictions_created_mid_listing_neither_repeat_nor_hide_older_ones(fake, small_pages):
    older = [_run(fake, f"old {i}") for i in range(12)]
    seen: list[str] = []
    page = fake.client.get("/predictions").json()
    newer: list[str] = []
    while True:
        seen += _ids(page)
        newer += [_run(fake, f"new {len(newer) + i}") for i in range(3)]  # between every two fetches
        if not page["next"]:
            break
        page = fake.client.get(page["next"]).json()
    assert len(seen) == len(set(seen)), "a row was listed twice"
    assert [i for i in seen if i in older] == older[::-1], "an older row was skipped or out of order"
    assert not set(seen) & set(newer), "rows created after the first page belong before it, not after"
    assert len(seen) == len(older)


def test_next_and_previous_walk_the_same_pages(fake, small_pages):
    made = [_run(fake, str(i)) for i in range(12)]
    first = fake.client.get("/predictions").json()
    second = fake.client.get(first["next"]).json()
    third = fake.client.get(second["next"]).json()
    assert _ids(first) + _ids(second) + _ids(third) == made[::-1]
    assert first["previous"] is None and third["next"] is None
    assert fake.client.get(third["previous"]).json()["results"] == second["results"]
    back = fake.client.get(second["previous"]).json()
    assert back["results"] == first["results"] and back["previous"] is None
    assert back["next"] == first["next"]


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


FORGED = [
    "!!not-a-cursor",
    "bzoxMDA",  # an offset cursor of the old kind ("o:100")
    _cursor({"n": 1}),
    _cursor(["x", ["a", "b"]]),
    _cursor(["n", []]),
    _cursor(["n", [1, 2]]),  # numbers where a listing of runs keys by text
    _cursor(["n", ["a"]]),  # one part where it has two
    _cursor(["n", ["a" * 5000, "b"]]),
    _cursor(["n", [True, "b"]]),
    base64.urlsafe_b64encode(b'["n", [NaN, "b"]]').decode(),
    base64.urlsafe_b64encode(b"[" * 20_000).decode(),
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
]


@pytest.mark.parametrize("cursor", FORGED)
@pytest.mark.parametrize("path", ["/predictions", "/trainings", "/files", "/models/test/echo/examples"])
def test_a_forged_cursor_is_a_400_problem(fake, path, cursor):
    response = fake.client.get(path, params={"cursor": cursor})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "cursor" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/models", "/collections", "/deployments", "/models/test/versioned/versions"])
def test_forged_cursors_of_listings_kept_in_memory_are_400_too(fake, path):
    for cursor in ("!!not-a-cursor", _cursor(["n", [{"a": 1}]]), _cursor(["n", ["a", "b", "c", "d", "e"]])):
        assert fake.client.get(path, params={"cursor": cursor}).status_code == 400


def _corrupt(fake, prediction_id: str, data: str) -> None:
    with contextlib.closing(sqlite3.connect(fake.handle.data_dir / "sandbox.db", timeout=10)) as db:
        db.execute("UPDATE records SET data = ? WHERE kind = 'predictions' AND key = ?", (data, prediction_id))
        db.commit()


def test_a_row_that_cannot_be_read_is_skipped_with_one_log_line(fake, small_pages, caplog):
    made = [_run(fake, str(i)) for i in range(8)]
    _corrupt(fake, made[3], "{not json")
    _corrupt(fake, made[5], "[1, 2]")  # JSON, but not a record
    caplog.set_level(logging.WARNING, logger="rshell.sandbox")
    for _ in range(2):
        first = fake.client.get("/predictions")
        assert first.status_code == 200
        rest = fake.client.get(first.json()["next"]).json()
        assert _ids(first.json()) + _ids(rest) == [made[i] for i in (7, 6, 4, 2, 1, 0)]
        assert fake.client.get("/models/test/echo").status_code == 200  # its default example too
        assert fake.client.get("/models").status_code == 200
    assert fake.client.get(f"/predictions/{made[3]}").status_code == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "rshell.sandbox"]
    assert len(lines) == 2, lines  # one line per unreadable row, however often it is met
    assert made[3] in lines[0] + lines[1] and made[5] in lines[0] + lines[1]
    assert all("cannot be read" in line and "\n" not in line for line in lines)


def test_a_json_row_without_the_fields_a_view_needs_is_skipped_not_a_500(fake, small_pages, caplog):
    import json

    made = [_run(fake, str(i)) for i in range(8)]
    whole = fake.handle.sandbox.store.snapshot("predictions", made[1])
    _corrupt(fake, made[1], json.dumps({k: v for k, v in whole.items() if k != "id"}))  # no id
    _corrupt(fake, made[2], json.dumps({**whole, "id": made[2], "status": 7}))  # a status of another type
    caplog.set_level(logging.WARNING, logger="rshell.sandbox")
    for _ in range(2):
        first = fake.client.get("/predictions")
        assert first.status_code == 200, first.text
        rest = fake.client.get(first.json()["next"]).json()
        assert _ids(first.json()) + _ids(rest) == [made[i] for i in (7, 6, 5, 4, 3, 0)]
        assert fake.client.get("/models/test/echo").status_code == 200  # its default example too
    assert fake.client.get(f"/predictions/{made[1]}").status_code == 404
    assert fake.client.get(f"/predictions/{made[2]}").status_code == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "rshell.sandbox"]
    assert len(lines) == 2, lines
    assert any(made[1] in line and "no id" in line for line in lines), lines
    assert any(made[2] in line and "status is a int" in line for line in lines), lines
