"""The sandbox's SQLite store (issue 9 item 10): WAL mode, indexed listings, runs in
flight held in memory, and the one-time migration of a data directory written by the
old store (one JSON file per record under `state/`)."""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from conftest import checked_client
from sandbox_fakes import make_fakes

from rshell.sandbox.server import start
from rshell.sandbox.store import Query, Store, StoreUnavailable


def _db(root: Path) -> sqlite3.Connection:
    return sqlite3.connect(root / "sandbox.db")


def test_one_database_in_wal_mode(tmp_path):
    Store(tmp_path).close()
    with contextlib.closing(_db(tmp_path)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("sandbox.db")) == ["blobs"]


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path):
    (tmp_path / "sandbox.db").write_bytes(b"these bytes are not SQLite " * 100)
    with pytest.raises(StoreUnavailable, match=r"^cannot use the sandbox database .*: file is not a database$"):
        Store(tmp_path)


def test_a_page_of_runs_is_read_through_an_index(tmp_path):
    """The query plan of a listing's page: an index search, never a scan of the table."""
    from rshell.sandbox.store import _select

    with contextlib.closing(Store(tmp_path)._db) as db:
        for query, after in ((Query(), None), (Query(), ("2026", "x")), (Query(model="a/b", status="succeeded"), None)):
            sql, params = _select("predictions", query, after, False)
            plan = " ".join(row[-1] for row in db.execute("EXPLAIN QUERY PLAN " + sql, params))
            assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, plan


def _run(key: str, created: str, **fields) -> dict:
    return {"id": key, "created_at": created, "status": "succeeded", "model": "a/b", **fields}


def test_rows_are_newest_first_after_a_keyset_position(tmp_path):
    store = Store(tmp_path)
    with store.transaction():
        for n in range(6):
            store.put("predictions", f"p{n}", _run(f"p{n}", f"2026-01-0{n + 1}T00:00:00.000000Z"))
    store.put("predictions", "same-time", _run("same-time", "2026-01-03T00:00:00.000000Z"))
    listed = [r["id"] for r in store.rows("predictions")]
    assert listed == ["p5", "p4", "p3", "same-time", "p2", "p1", "p0"]
    assert [
        r["id"] for r in store.rows("predictions", after=("2026-01-03T00:00:00.000000Z", "same-time"), limit=2)
    ] == [
        "p2",
        "p1",
    ]
    before = store.rows("predictions", after=("2026-01-03T00:00:00.000000Z", "p2"), backwards=True, limit=2)
    assert [r["id"] for r in before] == ["same-time", "p3"]
    after = Query(created_after="2026-01-02T00:00:00.000000Z", created_before="2026-01-05T00:00:00.000000Z")
    assert [r["id"] for r in store.rows("predictions", after)] == ["p3", "same-time", "p2"]
    store.close()


def test_a_held_run_is_live_in_memory_and_its_row_follows_at_each_step(tmp_path):
    store = Store(tmp_path)
    live = store.put("predictions", "r", _run("r", "2026", status="processing", logs=""), hold=True)
    live["logs"] += "a line\n"  # a worker's change, not yet written
    assert store.snapshot("predictions", "r")["logs"] == "a line\n"
    assert store.rows("predictions")[0]["logs"] == "a line\n"  # listings see it too
    with contextlib.closing(_db(tmp_path)) as db:
        assert json.loads(db.execute("SELECT data FROM records").fetchone()[0])["logs"] == ""
    with store.edit("predictions", "r") as record:
        record["status"] = "succeeded"
    store.release("predictions", "r")
    assert store.get("predictions", "r") is not live
    assert store.get("predictions", "r")["logs"] == "a line\n"
    assert [r["id"] for r in store.rows("predictions", Query(status="succeeded"))] == ["r"]
    store.close()


def test_memory_only_records_are_listed_but_never_stored(tmp_path):
    store = Store(tmp_path)
    store.put("versions", "x/y:1", {"id": "1", "model": "x/y", "created_at": "2026-01-01"}, persist=False)
    store.put("versions", "x/y:2", {"id": "2", "model": "x/y", "created_at": "2026-01-02"})
    store.put("versions", "z/w:3", {"id": "3", "model": "z/w", "created_at": "2026-01-03"})
    assert [v["id"] for v in store.values("versions", model="x/y")] == ["2", "1"]
    with store.edit("versions", "x/y:1") as record:
        record["note"] = "changed in memory"
    store.close()
    again = Store(tmp_path)
    assert again.get("versions", "x/y:1") is None and again.get("versions", "x/y:2") is not None
    again.close()


def test_after_close_nothing_is_read_or_written(tmp_path):
    store = Store(tmp_path)
    store.put("models", "a/b", {"owner": "a", "name": "b"})
    store.close()
    store.put("models", "a/c", {"owner": "a", "name": "c"})  # a worker finishing after shutdown
    assert store.get("models", "a/b") is None and store.rows("models") == []
    with contextlib.closing(_db(tmp_path)) as db:
        assert db.execute("SELECT key FROM records").fetchall() == [("a/b",)]


# the migration -------------------------------------------------------------------------


def _old(root: Path, kind: str, key: str, record: object) -> None:
    """A record as the old store wrote it: state/<kind>/<quoted key>.json."""
    path = root / "state" / kind / f"{quote(key, safe='')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, default=str) if not isinstance(record, str) else record, "utf-8")


def _old_data_dir(root: Path) -> dict:
    """A data directory of the old store: a model, a version, runs (one in flight), a
    file with its blob, settings, a damaged record and a temp file a crash left."""
    echo = make_fakes()[0]["test/echo"]
    model = {
        "owner": "sandbox",
        "name": "kept",
        "description": "from the JSON days",
        "visibility": "private",
        "hardware": "cpu",
        "github_url": None,
        "paper_url": None,
        "license_url": None,
        "cover_image_url": None,
        "readme": None,
        "weights_url": None,
        "created_at": "2026-11-01T10:00:00.000000Z",
        "run_count": 3,
        "builtin": False,
    }
    _old(root, "models", "sandbox/kept", model)
    version = {
        "id": "a" * 64,
        "model": "sandbox/kept",
        "created_at": "2026-11-01T10:05:00.000000Z",
        "cog_version": "0.16.0",
        "openapi_schema": echo.openapi_schema(),
        "predictor": "test/echo",
        "weights": None,
    }
    _old(root, "versions", f"sandbox/kept:{version['id']}", version)
    runs = []
    for n, status in enumerate(["succeeded", "succeeded", "failed", "processing"]):
        run = {
            "id": f"run{n:023d}",
            "model": "sandbox/kept",
            "version": version["id"],
            "input": {"text": f"t{n}"},
            "output": f"T{n}" if status == "succeeded" else None,
            "logs": f"echo t{n}\n",
            "error": "boom" if status == "failed" else None,
            "status": status,
            "created_at": f"2026-11-0{n + 2}T10:00:00.000000Z",
            "started_at": f"2026-11-0{n + 2}T10:00:01.000000Z",
            "data_removed": False,
            "source": "api",
            "metrics": {},
            "_webhook": None,
            "_webhook_events_filter": None,
            "_official": False,
            "_events": [[1, "logs", f"echo t{n}"], [2, "output", f"T{n}"], [3, "done", {}]],
        }
        if status != "processing":
            run["completed_at"] = f"2026-11-0{n + 2}T10:00:02.000000Z"
        _old(root, "predictions", run["id"], run)
        runs.append(run)
    upload = {
        "id": "file0000000000000000000000",
        "name": "a.txt",
        "content_type": "text/plain",
        "metadata": {},
        "created_at": "2026-11-09T10:00:00.000000Z",
        "expires_at": "2099-01-01T00:00:00.000000Z",
        "size": 10,
        "sha256": "0" * 64,
    }
    _old(root, "files", upload["id"], upload)
    (root / "blobs").mkdir()
    (root / "blobs" / upload["id"]).write_bytes(b"persist me")
    _old(root, "predictions", "damaged", "{not json")
    (root / "state" / "predictions" / ".tmp-abc123").write_text('{"half": ')
    (root / "state" / "webhook_secret.json").write_text(json.dumps("whsec_" + "A" * 44))
    (root / "state" / "files_secret.json").write_text(json.dumps("kept-files-secret"))
    return {"model": model, "version": version, "runs": runs, "file": upload}


def _started(root: Path):
    predictors, _ = make_fakes()
    return start(root, predictors=predictors)


def test_an_old_json_data_dir_is_migrated_once(tmp_path, caplog):
    root = tmp_path / "data"
    root.mkdir()
    old = _old_data_dir(root)
    caplog.set_level(logging.WARNING, logger="rshell.sandbox")
    with _started(root) as handle, checked_client(handle) as client:
        model = client.get("/models/sandbox/kept").json()
        assert model["description"] == "from the JSON days"
        assert model["run_count"] == len(old["runs"])  # counted from the stored runs (issue 20)
        assert model["latest_version"]["id"] == old["version"]["id"]
        assert model["default_example"]["id"] == old["runs"][1]["id"]  # the newest succeeded one
        listed = client.get("/predictions").json()["results"]
        assert [p["id"] for p in listed] == [r["id"] for r in old["runs"]][::-1]
        in_flight = client.get(f"/predictions/{old['runs'][3]['id']}").json()
        assert in_flight["status"] == "failed" and "restarted" in in_flight["error"]
        assert client.get(f"/predictions/{old['runs'][0]['id']}").json()["output"] == "T0"
        assert client.get("/webhooks/default/secret").json()["key"] == "whsec_" + "A" * 44
        signed = client.get(f"/files/{old['file']['id']}").json()["urls"]["download"]
        assert httpx.get(signed).content == b"persist me"
        assert handle.sandbox.files_secret == "kept-files-secret"
    lines = [r.getMessage() for r in caplog.records if r.name == "rshell.sandbox"]
    assert any("'damaged'" in line and "cannot be read" in line for line in lines)
    assert any(line.startswith("moved 7 records of the old JSON state") for line in lines), lines
    assert not (root / "state").exists()
    (aside,) = root.glob("json-migrated-*")
    assert (aside / "predictions" / f"{old['runs'][0]['id']}.json").exists()
    assert (aside / "predictions" / "damaged.json").read_text() == "{not json"  # kept, for a look

    caplog.clear()
    with _started(root) as handle, checked_client(handle) as client:  # a second start migrates nothing
        assert len(client.get("/predictions").json()["results"]) == 4
        assert client.get(f"/predictions/{old['runs'][3]['id']}").json()["error"] == in_flight["error"]
    assert list(root.glob("json-migrated-*")) == [aside]
    assert not [r for r in caplog.records if r.getMessage().startswith("moved")]


def test_values_an_old_store_kept_that_no_response_can_carry_are_cleaned(tmp_path):
    """Issue 9 item 8: NaN or a lone surrogate in a stored record made every later
    listing a 500, even after a restart; migrated, they read as null and U+FFFD."""
    root = tmp_path / "data"
    root.mkdir()
    old = _old_data_dir(root)
    poisoned = dict(old["runs"][0], input={"text": "\ud800", "n": float("nan")}, output=float("inf"))
    _old(root, "predictions", poisoned["id"], poisoned)
    _old(root, "models", "sandbox/kept", dict(old["model"], description="bad \udfff here"))
    assert "NaN" in (root / "state" / "predictions" / f"{poisoned['id']}.json").read_text()
    with _started(root) as handle, checked_client(handle) as client:  # every response checked
        for _ in range(2):
            listed = client.get("/predictions")
            assert listed.status_code == 200
            shown = next(p for p in listed.json()["results"] if p["id"] == poisoned["id"])
            assert shown["input"] == {"text": "\ufffd", "n": None} and shown["output"] is None
            assert client.get("/models").status_code == 200
            assert client.get("/models/sandbox/kept").json()["description"] == "bad \ufffd here"
