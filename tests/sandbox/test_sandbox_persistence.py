"""State survives `rshell serve --data DIR` restarts; writes are atomic; runs that
were in flight come back failed; output URLs follow the new port."""

from __future__ import annotations

import contextlib

import httpx
from conftest import checked_client
from sandbox_fakes import make_fakes
from waits import events_of, wait_finished

from rshell.sandbox.server import start
from rshell.sandbox.store import Store


def _start(data):
    predictors, gates = make_fakes()
    return start(data, predictors=predictors), gates


def test_everything_survives_a_restart(tmp_path):
    data = tmp_path / "data"
    handle, _ = _start(data)
    with handle, checked_client(handle) as client:
        client.post(
            "/models",
            json={
                "owner": "sandbox",
                "name": "keep",
                "visibility": "private",
                "hardware": "cpu",
                "description": "kept",
            },
        )
        trainer = client.get("/models/test/trainer").json()["latest_version"]["id"]
        training = client.post(
            f"/models/test/trainer/versions/{trainer}/trainings",
            json={"destination": "sandbox/keep", "input": {"prefix": "+"}},
        ).json()
        wait_finished(handle, "trainings", training["id"])
        assert client.get(f"/trainings/{training['id']}").json()["status"] == "succeeded"
        version = client.get("/models/sandbox/keep").json()["latest_version"]["id"]
        client.post(
            "/deployments",
            json={
                "name": "dep",
                "model": "sandbox/keep",
                "version": version,
                "hardware": "cpu",
                "min_instances": 0,
                "max_instances": 1,
            },
        )
        client.patch("/deployments/sandbox/dep", json={"max_instances": 3})
        upload = client.post("/files", files={"content": ("a.txt", b"persist me", "text/plain")}).json()
        prediction = client.post(
            "/models/test/reader/predictions",
            json={"input": {"file": upload["urls"]["get"]}},
            headers={"Prefer": "wait"},
        ).json()
        streamed = client.get(events_of(prediction)).text
        secret = client.get("/webhooks/default/secret").json()
        old_root = handle.root

    handle, _ = _start(data)
    with handle, checked_client(handle) as client:
        assert client.get("/models/sandbox/keep").json()["description"] == "kept"
        assert client.get("/models/sandbox/keep").json()["latest_version"]["id"] == version
        assert client.get(f"/trainings/{training['id']}").json()["output"]["version"] == f"sandbox/keep:{version}"
        deployment = client.get("/deployments/sandbox/dep").json()["current_release"]
        assert deployment["number"] == 2 and deployment["configuration"]["max_instances"] == 3
        signed = client.get(f"/files/{upload['id']}").json()["urls"]["download"]
        assert httpx.get(signed).content == b"persist me"  # the signing key survives too
        again = client.get(f"/predictions/{prediction['id']}").json()
        assert again["status"] == "succeeded"
        assert again["output"]["reversed"].startswith(handle.root + "/delivery/")
        assert httpx.get(again["output"]["reversed"]).content == b"em tsisrep"
        assert again["input"]["file"] == handle.url + f"/files/{upload['id']}"
        # the replayed stream is the same events, with URLs on the new origin
        assert client.get(events_of(again)).text == streamed.replace(old_root, handle.root)
        assert client.get("/webhooks/default/secret").json() == secret
        ran = client.post(
            "/predictions", json={"version": version, "input": {"text": "x"}}, headers={"Prefer": "wait"}
        ).json()
        assert ran["output"] == "+x"  # the trained version still runs after the restart


def test_a_run_in_flight_at_shutdown_comes_back_failed(tmp_path):
    data = tmp_path / "data"
    handle, gates = _start(data)
    with checked_client(handle) as client:
        running = client.post("/models/test/blocker/predictions", json={"input": {}}).json()
        assert gates["blocker"].arrived()  # processing, inside the predictor
    handle.stop()
    handle, _ = _start(data)
    with handle, checked_client(handle) as client:
        body = client.get(f"/predictions/{running['id']}").json()
        assert body["status"] == "failed"
        assert "restarted" in body["error"]
        assert body["logs"] == "waiting\n"
        events = client.get(events_of(body)).text
        assert "event: error" in events and '{"reason": "error"}' in events


def test_a_failed_transaction_writes_nothing(tmp_path):
    store = Store(tmp_path)
    store.put("models", "a/b", {"owner": "a", "name": "b", "n": 1})
    with contextlib.suppress(RuntimeError), store.transaction():
        store.put("models", "a/b", {"owner": "a", "name": "b", "n": 2})
        store.put("models", "a/c", {"owner": "a", "name": "c", "n": 2})
        raise RuntimeError("crash in the middle")
    store.close()
    again = Store(tmp_path)
    assert again.get("models", "a/b")["n"] == 1  # the old content, intact
    assert again.get("models", "a/c") is None  # and nothing of the half-done change
    again.close()


def test_blobs_are_written_atomically(tmp_path, monkeypatch):
    store = Store(tmp_path)
    store.write_blob("x", b"first")

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", crash)
    with contextlib.suppress(OSError):
        store.write_blob("x", b"second")
    monkeypatch.undo()
    assert store.blob_path("x").read_bytes() == b"first"
    assert [p.name for p in (tmp_path / "blobs").iterdir()] == ["x"]  # no temp file left behind
    store.write_blob("x", b"second")
    assert store.blob_path("x").read_bytes() == b"second"
    store.close()


def test_a_temporary_data_dir_is_removed_on_stop():
    handle = start(predictors={})
    root = handle.data_dir
    assert root.exists()
    handle.stop()
    assert not root.exists()


def test_run_counts_come_from_the_store_not_the_serving_process(tmp_path):
    """Issue 20: a built-in model's run count lives in no record of its own (built-ins are
    registered again at each start), so it is counted from the stored predictions: a
    server that took over the data directory reports the runs made before it."""
    data = tmp_path / "data"
    handle, _ = _start(data)
    with handle, checked_client(handle) as client:
        for text in ("a", "b"):
            ran = client.post(
                "/models/test/echo/predictions", json={"input": {"text": text}}, headers={"Prefer": "wait"}
            )
            assert ran.json()["status"] == "succeeded"
        assert client.get("/models/test/echo").json()["run_count"] == 2
    handle, _ = _start(data)
    with handle, checked_client(handle) as client:
        assert client.get("/models/test/echo").json()["run_count"] == 2
        listed = {f"{m['owner']}/{m['name']}": m["run_count"] for m in client.get("/models").json()["results"]}
        assert listed["test/echo"] == 2 and listed["test/blocker"] == 0
