"""Predictions against fake models with gates: waiting, validation, SSE, cancel,
failure, concurrency and deployments. Every response is checked against the spec."""

from __future__ import annotations

import asyncio
import json
import threading
from types import SimpleNamespace

import httpx
import pytest
from waits import HANG, Workers, events_of, wait_event, wait_finished

from rshell.sandbox.api_predictions import MAX_WAIT, prefer_wait
from rshell.sandbox.events import EventLog


def _create(fake, model: str, inputs: dict, **headers: str) -> httpx.Response:
    return fake.client.post(f"/models/{model}/predictions", json={"input": inputs}, headers=headers)


def _finished(fake, prediction_id: str) -> dict:
    """The prediction once it reached a terminal status (waits for its `done` event)."""
    wait_finished(fake.handle, "predictions", prediction_id)
    return fake.client.get(f"/predictions/{prediction_id}").json()


def _events(response: httpx.Response) -> list[tuple[str, str, str]]:
    """(id, event, data) of every SSE frame in a finished stream."""
    frames = []
    for block in response.text.split("\n\n"):
        fields: dict[str, list[str]] = {}
        for line in block.split("\n"):
            if line and not line.startswith(":"):
                key, _, value = line.partition(": ")
                fields.setdefault(key, []).append(value)
        if "event" in fields:
            frames.append((fields["id"][0], fields["event"][0], "\n".join(fields.get("data", []))))
    return frames


def test_prefer_wait_returns_the_finished_prediction_with_201(fake):
    response = _create(fake, "test/echo", {"text": "hi", "n": 2, "mode": "loud"}, Prefer="wait")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "succeeded" and body["output"] == "HI HI"
    assert body["input"] == {"text": "hi", "n": 2, "mode": "loud"}
    assert body["logs"] == "echo hi\n"
    assert body["metrics"]["predict_time"] >= 0
    assert "stream" not in body["urls"]  # its output is a string: nothing streams


def test_only_a_model_whose_output_is_an_iterator_gets_a_stream_url(fake):
    """The spec: `urls.stream` "if the model supports streaming"; Cog declares that as
    an output of `type: array` with `x-cog-array-type: iterator`."""
    streamed = _create(fake, "test/stepper", {"count": 1}).json()
    assert streamed["urls"]["stream"].endswith(f"/v1/predictions/{streamed['id']}/stream")
    fake.gates["stepper"].open()
    assert _finished(fake, streamed["id"])["urls"]["stream"] == streamed["urls"]["stream"]
    plain = _create(fake, "test/blocker", {}).json()
    assert "stream" not in plain["urls"]
    fake.gates["blocker"].open()
    assert "stream" not in _finished(fake, plain["id"])["urls"]
    listed = {p["id"]: p["urls"] for p in fake.client.get("/predictions").json()["results"]}
    assert "stream" in listed[streamed["id"]] and "stream" not in listed[plain["id"]]


def test_without_prefer_the_answer_is_immediate_and_starting(fake):
    response = _create(fake, "test/blocker", {})
    assert response.status_code == 201
    assert response.json()["status"] == "starting"
    assert "completed_at" not in response.json()
    fake.gates["blocker"].open()
    assert _finished(fake, response.json()["id"])["output"] == {"released": True}


def test_prefer_wait_n_holds_for_n_seconds_then_answers_202_starting(fake, monkeypatch):
    windows: list[tuple[float, bool]] = []  # (seconds the response was held for, done by then)
    real_wait = EventLog.wait_done

    async def spy(self: EventLog, timeout: float) -> bool:
        done = await real_wait(self, timeout)
        windows.append((timeout, done))
        return done

    monkeypatch.setattr(EventLog, "wait_done", spy)
    response = _create(fake, "test/blocker", {}, Prefer="wait=1")
    assert windows == [(1.0, False)]  # held for the 1 s window, which passed without `done`
    assert response.status_code == 202
    assert response.json()["status"] == "starting"
    fake.gates["blocker"].open()
    assert _finished(fake, response.json()["id"])["status"] == "succeeded"


@pytest.mark.parametrize(
    "header, seconds",
    [(None, None), ("wait", MAX_WAIT), ("wait=1", 1.0), (" wait = 7 ", 7.0), ("wait=600", MAX_WAIT)],
)
def test_prefer_wait_windows(header, seconds):
    headers = {} if header is None else {"prefer": header}
    assert prefer_wait(SimpleNamespace(headers=headers)) == seconds


def test_a_held_wait_ends_on_done_not_on_its_window():
    log = EventLog()

    async def held() -> bool:
        waiting = asyncio.ensure_future(log.wait_done(HANG))  # a window no test would sit out
        while not log._waiters:  # until the wait is really held, following the log
            await asyncio.sleep(0)
        threading.Thread(target=log.append, args=("done", {})).start()  # a worker thread finishes
        return await waiting

    async def bounded() -> bool:
        return await asyncio.wait_for(held(), HANG / 2)  # a hang guard shorter than the window

    assert asyncio.run(bounded()) is True


def test_a_window_that_passes_reports_not_done():
    async def passes() -> bool:
        return await asyncio.wait_for(EventLog().wait_done(0.01), HANG)

    assert asyncio.run(passes()) is False


def test_a_malformed_prefer_header_is_a_400(fake):
    assert _create(fake, "test/echo", {"text": "x"}, Prefer="soon").status_code == 400


def test_defaults_are_filled_in(fake):
    body = _create(fake, "test/echo", {"text": "x"}, Prefer="wait").json()
    assert body["input"] == {"text": "x", "n": 1, "mode": "plain"}


@pytest.mark.parametrize(
    "inputs, field",
    [
        ({"text": "x", "colour": "red"}, "input.colour"),
        ({"text": 3}, "input.text"),
        ({"text": "x", "n": 9}, "input.n"),
        ({"text": "x", "n": "two"}, "input.n"),
        ({"text": "x", "mode": "whisper"}, "input.mode"),
        ({}, "input.text"),
    ],
)
def test_inputs_that_fail_the_schema_are_422_naming_the_field(fake, inputs, field):
    response = _create(fake, "test/echo", inputs)
    assert response.status_code == 422
    assert response.json()["detail"].startswith(field + ":")
    assert fake.client.get("/predictions").json()["results"] == []  # nothing was created


def test_request_body_errors(fake):
    client = fake.client
    assert client.post("/models/test/echo/predictions", json={"inputs": {}}).status_code == 422
    assert client.post("/models/test/echo/predictions", json={"input": "text"}).status_code == 422
    json_type = {"Content-Type": "application/json"}
    assert client.post("/models/test/echo/predictions", content=b"{not json", headers=json_type).status_code == 400
    assert client.post("/models/test/echo/predictions", content=b"{not json").status_code == 415
    assert client.post("/models/test/nope/predictions", json={"input": {}}).status_code == 404


def test_create_by_version_accepts_every_reference_form(fake):
    """The spec's forms: owner/name:id and a bare id of a versioned model, owner/name
    of an official one; every other form is refused with Replicate's 422."""
    version = fake.client.get("/models/test/versioned").json()["latest_version"]["id"]
    official = fake.client.get("/models/test/echo").json()["latest_version"]["id"]
    for ref, runs in ((version, version), (f"test/versioned:{version}", version), ("test/echo", "hidden")):
        response = fake.client.post(
            "/predictions", json={"version": ref, "input": {"text": "v"}}, headers={"Prefer": "wait"}
        )
        assert response.status_code == 201 and response.json()["output"] == "v", ref
        assert response.json()["version"] == runs
    for refused in ("f" * 64, "test/versioned", official, f"test/echo:{official}"):
        answer = fake.client.post("/predictions", json={"version": refused, "input": {"text": "v"}})
        assert answer.status_code == 422, refused
    assert fake.client.post("/predictions", json={"input": {}}).status_code == 422


def test_sse_stream_delivers_output_logs_and_done_and_resumes(fake):
    created = _create(fake, "test/stepper", {"count": 3}).json()
    stream_url = created["urls"]["stream"]
    fake.gates["stepper"].open(3)
    with httpx.Client(timeout=10) as plain:  # streams need no token
        full = plain.get(stream_url, headers={"Accept": "text/event-stream"})
    assert full.headers["content-type"].startswith("text/event-stream")
    frames = _events(full)
    kinds = [(event, data) for _, event, data in frames]
    assert kinds == [
        ("logs", "33%|step 1"),
        ("output", "tok0"),
        ("logs", "66%|step 2"),
        ("output", "tok1\n"),
        ("logs", "100%|step 3"),
        ("output", "tok2"),
        ("done", "{}"),
    ]
    assert [int(i) for i, _, _ in frames] == list(range(1, 8))
    resumed = _events(fake.client.get(stream_url, headers={"Last-Event-ID": "4"}))
    assert [(i, e) for i, e, _ in resumed] == [("5", "logs"), ("6", "output"), ("7", "done")]
    body = fake.client.get(f"/predictions/{created['id']}").json()
    assert body["output"] == ["tok0", "tok1\n", "tok2"]
    assert body["logs"] == "33%|step 1\n66%|step 2\n100%|step 3\n"


def test_sse_stream_is_live_while_the_prediction_runs(fake):
    created = _create(fake, "test/stepper", {"count": 2}).json()
    gate = fake.gates["stepper"]
    seen: list[str] = []
    with fake.client.stream("GET", created["urls"]["stream"]) as response:
        lines = response.iter_lines()
        gate.open()
        for line in lines:
            if line.startswith("data: tok0"):
                seen.append("tok0")
                break
        # the first token arrived while the second step is still gated
        assert fake.client.get(f"/predictions/{created['id']}").json()["status"] == "processing"
        gate.open()
        for line in lines:
            if line.startswith("event: done"):
                seen.append("done")
                break
    assert seen == ["tok0", "done"]


def test_cancel_mid_run_stops_the_predictor_and_ends_the_stream(fake, monkeypatch):
    workers = Workers(monkeypatch)
    created = _create(fake, "test/blocker", {}).json()
    assert fake.gates["blocker"].arrived()  # processing, inside predict()
    canceled = fake.client.post(f"/predictions/{created['id']}/cancel")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    frames = _events(fake.client.get(events_of(created)))
    assert frames[-1][1:] == ("done", json.dumps({"reason": "canceled"}))
    fake.gates["blocker"].open()  # a late release must not resurrect it
    workers.wait(created["id"])  # the predictor has returned: whatever it did late is in
    final = fake.client.get(f"/predictions/{created['id']}").json()
    assert final["status"] == "canceled" and final["output"] is None
    again = fake.client.post(f"/predictions/{created['id']}/cancel").json()
    assert again["status"] == "canceled"


def test_cancel_mid_stream_keeps_the_tokens_so_far(fake):
    created = _create(fake, "test/stepper", {"count": 3}).json()
    fake.gates["stepper"].open(1)
    assert wait_event(fake.handle, "predictions", created["id"], "output").data == "tok0"
    fake.client.post(f"/predictions/{created['id']}/cancel")
    final = _finished(fake, created["id"])
    assert final["status"] == "canceled" and final["output"] == ["tok0"]


def test_a_failing_model_fails_with_its_error_and_an_error_event(fake):
    body = _create(fake, "test/failer", {}, Prefer="wait").json()
    assert body["status"] == "failed"
    assert body["error"] == "boom: the fake model failed"
    assert body["logs"] == "about to fail\n"
    frames = _events(fake.client.get(events_of(body)))
    assert [e for _, e, _ in frames] == ["logs", "error", "done"]
    assert json.loads(frames[1][2]) == {"detail": "boom: the fake model failed"}
    assert json.loads(frames[2][2]) == {"reason": "error"}


def test_predictions_run_concurrently_on_the_worker_pool(fake):
    ids = [_create(fake, "test/together", {}).json()["id"] for _ in range(3)]
    finals = [_finished(fake, i) for i in ids]
    assert [f["status"] for f in finals] == ["succeeded"] * 3, [f["error"] for f in finals]


def test_requests_are_served_while_workers_are_busy(fake):
    ids = [_create(fake, "test/blocker", {}).json()["id"] for _ in range(4)]
    assert fake.gates["blocker"].arrived(4)  # every worker of the pool is held inside a predictor
    assert fake.client.get("/account").status_code == 200
    # answered while all four were still held: none had been released or given up
    assert set(ids) <= set(fake.handle.sandbox.runner.jobs)
    for prediction_id in ids:
        fake.client.post(f"/predictions/{prediction_id}/cancel")


def test_list_predictions_newest_first_with_date_filters(fake, monkeypatch):
    monkeypatch.setattr("rshell.sandbox.pagination.PAGE_SIZE", 2)
    ids = [_create(fake, "test/echo", {"text": str(i)}, Prefer="wait").json()["id"] for i in range(3)]
    first = fake.client.get("/predictions").json()
    second = fake.client.get(first["next"]).json()
    assert [p["id"] for p in first["results"] + second["results"]] == ids[::-1]
    middle = fake.client.get(f"/predictions/{ids[1]}").json()["created_at"]
    after = fake.client.get("/predictions", params={"created_after": middle}).json()["results"]
    assert [p["id"] for p in after] == [ids[2]]
    assert fake.client.get("/predictions", params={"source": "web"}).json()["results"] == []


def test_cancel_after_sets_a_deadline_and_short_ones_are_refused(fake):
    body = _create(fake, "test/echo", {"text": "x"}, **{"Cancel-After": "5m"}).json()
    assert body["deadline"] > body["created_at"]
    assert _create(fake, "test/echo", {"text": "x"}, **{"Cancel-After": "2s"}).status_code == 422
    assert _create(fake, "test/echo", {"text": "x"}, **{"Cancel-After": "soon"}).status_code == 422


def test_deployments_releases_and_predictions(fake):
    client = fake.client
    echo = client.get("/models/test/versioned").json()["latest_version"]["id"]
    body = {
        "name": "my-echo",
        "model": "test/versioned",
        "version": echo,
        "hardware": "cpu",
        "min_instances": 0,
        "max_instances": 2,
    }
    created = client.post("/deployments", json=body)
    assert created.status_code == 200
    release = created.json()["current_release"]
    assert created.json()["owner"] == "sandbox"
    assert release["number"] == 1 and release["version"] == echo
    assert release["configuration"] == {"hardware": "cpu", "min_instances": 0, "max_instances": 2}
    assert release["created_by"]["username"] == "sandbox"
    assert client.post("/deployments", json=body).status_code == 409
    assert (
        client.post("/deployments", json={**body, "name": "x", "min_instances": 3, "max_instances": 1}).status_code
        == 422
    )
    assert client.post("/deployments", json={**body, "name": "y", "hardware": "tpu"}).status_code == 422
    assert client.post("/deployments", json={**body, "name": "z", "model": "test/none"}).status_code == 404
    assert client.post("/deployments", json={**body, "name": "w", "version": "0" * 64}).status_code == 404

    ran = client.post(
        "/deployments/sandbox/my-echo/predictions", json={"input": {"text": "d"}}, headers={"Prefer": "wait"}
    ).json()
    assert ran["output"] == "d" and ran["deployment"] == "sandbox/my-echo" and ran["version"] == echo

    updated = client.patch("/deployments/sandbox/my-echo", json={"hardware": "gpu-t4", "max_instances": 5})
    release = updated.json()["current_release"]
    assert release["number"] == 2
    assert release["configuration"] == {"hardware": "gpu-t4", "min_instances": 0, "max_instances": 5}
    assert client.patch("/deployments/sandbox/my-echo", json={}).status_code == 422
    assert client.patch("/deployments/sandbox/my-echo", json={"min_instances": 9}).status_code == 422
    assert client.get("/deployments/sandbox/my-echo").json()["current_release"]["number"] == 2
    assert [d["name"] for d in client.get("/deployments").json()["results"]] == ["my-echo"]
    assert client.delete("/deployments/sandbox/my-echo").status_code == 204
    assert client.get("/deployments/sandbox/my-echo").status_code == 404
    assert client.post("/deployments/sandbox/my-echo/predictions", json={"input": {}}).status_code == 404


def test_webhooks_are_posted_and_signed_with_the_account_secret(fake):
    import base64
    import hashlib
    import hmac

    from waits import webhook_receiver

    with webhook_receiver(until=lambda body: json.loads(body)["status"] == "succeeded") as hooks:
        fake.client.post(
            "/models/test/echo/predictions",
            json={"input": {"text": "w"}, "webhook": hooks.url, "webhook_events_filter": ["completed"]},
        )
        assert hooks.arrived.wait(HANG)
    received = hooks.received
    assert len(received) == 1  # "start" was filtered out
    headers, body = received[0]
    secret = fake.client.get("/webhooks/default/secret").json()["key"]
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"
    assert json.loads(body)["output"] == "w"


def test_a_run_past_its_deadline_is_canceled(fake, monkeypatch):
    # Cancel-After's floor is 5 s; shorten what the header parses to so the test is quick
    monkeypatch.setattr("rshell.sandbox.api_predictions.cancel_after", lambda request: 0.3)
    created = _create(fake, "test/blocker", {}).json()
    final = _finished(fake, created["id"])  # the gate is never opened: only the deadline ends it
    assert final["status"] == "canceled"
    assert final["deadline"] <= final["completed_at"]


def test_no_create_waits_for_a_worker_thread_to_start(fake, monkeypatch):
    """The pool's threads all run from the start: a thread started inside `submit`
    held the event loop for milliseconds per create and spaced a burst of them out."""
    started: list[str] = []
    original = threading.Thread.start

    def start(thread: threading.Thread) -> None:
        started.append(thread.name)
        original(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    for n in range(4):
        response = _create(fake, "test/echo", {"text": str(n)}, Prefer="wait")
        assert response.status_code == 201 and response.json()["status"] == "succeeded", response.text
    assert [name for name in started if name.startswith("sandbox-worker")] == []
