"""`prediction …` handlers against a respx-mocked API: endpoints, waiting, streaming,
input validation before sending, uploads, --save, failures and Ctrl-C."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import api_fixtures as fx
import httpx
import pytest
import respx
from rsh import BASE, TOKEN, body_of, mocked

from rshell.commands import running
from rshell.commands.context import Result
from rshell.errors import ApiError, AuthError, Interrupted, RshellError, UsageError
from rshell.session.state import Session

PID = fx.PREDICTION_ID
STREAM_URL = f"https://stream.replicate.com/v1/files/{PID}-stream"
LLM = "meta/llama"
SSE = {"Content-Type": "text/event-stream"}


def mock_model(
    api, owner: str = "stability-ai", name: str = "sdxl", *, llm: bool = False, official: bool = True
) -> respx.Route:
    """The model object; official unless told, so `run owner/name` uses the model endpoint."""
    body = fx.model(owner, name, llm=llm, is_official=official)
    return api.get(f"{BASE}/models/{owner}/{name}").respond(200, json=body)


def model_create(api, owner: str = "stability-ai", name: str = "sdxl") -> respx.Route:
    return api.post(f"{BASE}/models/{owner}/{name}/predictions")


def unstreamed(status: str, **overrides: Any) -> dict:
    """A prediction without `urls.stream` (a model that has none): rshell polls it."""
    body = fx.prediction(status, **overrides)
    body["urls"].pop("stream")
    return body


# endpoint choice -------------------------------------------------------------------


def test_owner_name_runs_the_model_endpoint_with_prefer_wait(api):
    mock_model(api)
    create = model_create(api).respond(201, json=fx.prediction("succeeded"))
    ran = mocked("run stability-ai/sdxl prompt='a red fox' width=512")
    request = create.calls.last.request
    assert request.headers["Prefer"] == "wait"
    assert body_of(create)["input"] == {"prompt": "a red fox", "width": 512}
    assert "version" not in body_of(create)
    assert ran.code == 0 and ran.data["id"] == PID
    assert ran.stdout == "https://replicate.delivery/pbxt/abc123/out-0.png\n"
    assert f"prediction {PID} succeeded in 4.2s" in ran.stderr


def test_owner_name_version_uses_the_version_endpoint(api):
    version = api.get(f"{BASE}/models/stability-ai/sdxl/versions/{fx.VERSION_ID}").respond(200, json=fx.version())
    create = api.post(f"{BASE}/predictions").respond(201, json=fx.prediction("succeeded"))
    assert mocked(f"prediction create stability-ai/sdxl:{fx.VERSION_ID} prompt=hi").code == 0
    assert version.called
    assert body_of(create) == {"version": fx.VERSION_ID, "input": {"prompt": "hi"}}
    assert create.calls.last.request.headers["Prefer"] == "wait"


def test_a_versions_schema_is_fetched_once_then_validates_from_memory(api):
    version = api.get(f"{BASE}/models/stability-ai/sdxl/versions/{fx.VERSION_ID}").respond(200, json=fx.version())
    api.post(f"{BASE}/predictions").respond(201, json=fx.prediction("succeeded"))
    ref = f"stability-ai/sdxl:{fx.VERSION_ID}"
    # One client (the shell's session, a -c line): the schema is read once and kept.
    assert mocked(f"run {ref} prompt=hi; run {ref} prompt=again; run {ref} prompt=third").code == 0
    assert version.call_count == 1
    ran = mocked(f"run {ref} prompt=hi; run {ref} promt=x")  # still validated, from memory
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "unknown input 'promt'" in ran.error.message
    assert version.call_count == 2  # a new client (a new process) reads it again


def test_bare_version_id_uses_the_version_endpoint_without_a_schema(api):
    create = api.post(f"{BASE}/predictions").respond(201, json=fx.prediction("succeeded"))
    assert mocked(f"run {fx.VERSION_ID} prompt=hi steps=30").code == 0
    # without a schema: JSON if it parses, else string
    assert body_of(create) == {"version": fx.VERSION_ID, "input": {"prompt": "hi", "steps": 30}}
    assert len(api.calls) == 1  # no schema look-up: a bare id has no GET endpoint


def test_deployment_uses_the_deployment_endpoint_and_its_release_schema(api):
    api.get(f"{BASE}/deployments/alice/my-app").respond(200, json=fx.deployment("alice", "my-app"))
    api.get(f"{BASE}/models/stability-ai/sdxl/versions/{fx.VERSION_ID}").respond(200, json=fx.version())
    create = api.post(f"{BASE}/deployments/alice/my-app/predictions").respond(201, json=fx.prediction("succeeded"))
    assert mocked("run --deployment alice/my-app prompt=hi width=1024").code == 0
    assert body_of(create)["input"] == {"prompt": "hi", "width": 1024}
    ran = mocked("run --deployment alice/my-app prompt=hi width=5")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "width" in ran.error.message
    assert create.call_count == 1


# routing by is_official (SPEC 5) ----------------------------------------------------

NOT_FOUND = fx.problem(404, "The requested resource could not be found.")  # Replicate's words


def test_a_model_that_is_not_official_runs_its_latest_version(api):
    mock_model(api, official=False)
    create = api.post(f"{BASE}/predictions").respond(201, json=fx.prediction("succeeded"))
    ran = mocked("run stability-ai/sdxl prompt='a red fox' width=512")
    assert body_of(create) == {"version": fx.VERSION_ID, "input": {"prompt": "a red fox", "width": 512}}
    assert create.calls.last.request.headers["Prefer"] == "wait"
    assert [c.request.url.path for c in api.calls if c.request.method == "POST"] == ["/v1/predictions"]  # not by name
    assert ran.code == 0


def test_a_versioned_model_is_validated_against_its_latest_versions_schema(api):
    mock_model(api, official=False)
    ran = mocked("run stability-ai/sdxl prompt=hi width=99999")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "width" in ran.error.message
    assert [c.request.method for c in api.calls] == ["GET"]  # nothing created


def test_a_model_without_official_status_or_a_latest_version_is_a_clear_error(api):
    api.get(f"{BASE}/models/alice/empty").respond(
        200, json=fx.model("alice", "empty", is_official=False, latest_version=None)
    )
    ran = mocked("run alice/empty prompt=hi")
    assert ran.code == 1 and isinstance(ran.error, RshellError)
    assert "alice/empty has no version to run" in ran.error.message
    assert "alice/empty:VERSION" in (ran.error.hint or "")
    assert len(api.calls) == 1  # the model's GET: nothing created


def test_an_official_model_never_sends_a_version(api):
    mock_model(api, "black-forest-labs", "flux-schnell", official=True)
    create = model_create(api, "black-forest-labs", "flux-schnell").respond(201, json=fx.prediction("succeeded"))
    assert mocked("run black-forest-labs/flux-schnell prompt=hi").code == 0
    assert "version" not in body_of(create)
    assert [c.request.method for c in api.calls] == ["GET", "POST"]  # no POST /predictions by version


def test_stream_of_a_versioned_model_streams_its_latest_version(api, sleeps):
    mock_model(api, "meta", "llama", llm=True, official=False)
    create = api.post(f"{BASE}/predictions").respond(201, json=llm_prediction("starting"))
    api.get(STREAM_URL).respond(200, headers=SSE, text="event: output\ndata: hi\n\nevent: done\ndata: {}\n\n")
    api.get(f"{BASE}/predictions/{PID}").respond(200, json=llm_prediction("succeeded", output=["hi"]))
    ran = mocked("stream meta/llama prompt=x")
    assert body_of(create) == {"version": fx.LLM_VERSION_ID, "input": {"prompt": "x"}, "stream": True}
    assert "Prefer" not in create.calls.last.request.headers
    assert ran.stdout.startswith("hi")


def test_unknown_official_status_tries_the_model_endpoint_then_the_latest_version(api):
    body = fx.model()
    del body["is_official"]  # an older or partial answer: rshell cannot tell
    api.get(f"{BASE}/models/stability-ai/sdxl").respond(200, json=body)
    by_name = model_create(api).respond(404, json=NOT_FOUND)
    create = api.post(f"{BASE}/predictions").respond(201, json=fx.prediction("succeeded"))
    ran = mocked("run stability-ai/sdxl prompt=hi")
    assert by_name.call_count == 1 and body_of(by_name) == {"input": {"prompt": "hi"}}
    assert body_of(create) == {"version": fx.VERSION_ID, "input": {"prompt": "hi"}}
    assert ran.code == 0


def test_unknown_official_status_runs_by_name_when_the_model_endpoint_accepts(api):
    body = fx.model()
    del body["is_official"]
    api.get(f"{BASE}/models/stability-ai/sdxl").respond(200, json=body)
    by_name = model_create(api).respond(201, json=fx.prediction("succeeded"))
    assert mocked("run stability-ai/sdxl prompt=hi").code == 0
    assert by_name.called and [c.request.method for c in api.calls] == ["GET", "POST"]  # no fallback


def test_the_fallback_retries_only_a_404(api):
    body = fx.model()
    del body["is_official"]
    api.get(f"{BASE}/models/stability-ai/sdxl").respond(200, json=body)
    model_create(api).respond(422, json=fx.problem(422, "input.prompt is required"))
    ran = mocked("run stability-ai/sdxl prompt=hi")
    assert ran.code == 1 and isinstance(ran.error, ApiError)
    assert "input.prompt is required" in ran.error.message
    assert [c.request.method for c in api.calls] == ["GET", "POST"]  # no fallback after a 422


def test_a_dry_run_whose_model_fetch_failed_shows_the_run_by_name_unvalidated(api):
    """--dry-run goes on without the model: the create it would send is shown, by name."""
    lookup = api.get(f"{BASE}/models/stability-ai/sdxl").respond(503, json=fx.problem(503, "Service Unavailable"))
    ran = mocked("run stability-ai/sdxl promt=unvalidated", dry_run=True)
    assert ran.code == 0 and lookup.call_count == 1
    assert "inputs not validated" in ran.stderr
    assert f'POST {BASE}/models/stability-ai/sdxl/predictions {{"input":{{"promt":"unvalidated"}}}}' in ran.stdout
    assert [c.request.method for c in api.calls] == ["GET"]  # the create is printed, never sent


def create_unknown(model: str) -> Any:
    """`create_prediction` for a model whose kind is unknown (its lookup failed, as in a
    dry run): the real path's dry-run transport stops at the first create, so the Go
    CLI's by-name-then-latest fallback is held here, on the function itself."""
    from rshell.client.api import ReplicateClient
    from rshell.commands.modelref import parse_model_ref, unknown_route
    from rshell.commands.predictions import Target, create_prediction

    route = unknown_route(parse_model_ref(model))
    target = Target(model=route.model, fallback=route.fallback, latest=route.latest)

    async def go() -> Any:
        async with ReplicateClient(TOKEN, BASE, max_retries=0) as client:
            return await create_prediction(client, target, {"promt": "unvalidated"})

    return asyncio.run(go())


def test_a_model_of_unknown_kind_falls_back_from_its_name_to_its_latest_version(api):
    by_name = model_create(api).respond(404, json=NOT_FOUND)
    lookup = api.get(f"{BASE}/models/stability-ai/sdxl").respond(200, json=fx.model(is_official=False))
    create = api.post(f"{BASE}/predictions").respond(201, json=fx.prediction("succeeded"))
    assert create_unknown("stability-ai/sdxl").id == PID
    assert by_name.called and lookup.call_count == 1
    assert body_of(create) == {"version": fx.VERSION_ID, "input": {"promt": "unvalidated"}}


def test_the_fallback_keeps_the_404_when_there_is_no_version_to_retry(api):
    api.get(f"{BASE}/models/alice/gone").respond(404, json=NOT_FOUND)
    model_create(api, "alice", "gone").respond(404, json=NOT_FOUND)
    with pytest.raises(ApiError) as caught:
        create_unknown("alice/gone")
    assert caught.value.status == 404 and "alice/gone" in caught.value.message
    assert [c.request.method for c in api.calls] == ["POST", "GET"]  # nothing created by version


def test_model_and_deployment_together_or_neither_is_a_usage_error(api):
    ran = mocked("run a/b --deployment c/d prompt=x")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "not both" in ran.error.message
    ran = mocked("prediction create")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "needs a model" in ran.error.message
    ran = mocked("run not-a-model prompt=x")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "expected owner/name" in ran.error.message
    assert not api.calls


# validation before sending ------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ("promt=hi", "promt"),
        ("prompt=hi width=99999", "width"),
        ("prompt=hi scheduler=NOPE", "scheduler"),
        ("prompt=hi num_outputs=two", "num_outputs"),
        ("width=512", "prompt"),
    ],
)
def test_invalid_inputs_fail_before_any_request_is_sent(api, inputs, message):
    mock_model(api)
    ran = mocked(f"run stability-ai/sdxl {inputs} image=@{__file__}")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert message in ran.error.message
    assert [c.request.method for c in api.calls] == ["GET"]  # no upload, no create


def test_missing_file_fails_before_any_request(api, tmp_path):
    ran = mocked(f"run stability-ai/sdxl prompt=hi image=@{tmp_path / 'nope.png'}")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert not api.calls  # found before the schema is even asked for


def test_schema_fetch_failure_is_fatal_unless_dry_run(api):
    api.get(f"{BASE}/models/stability-ai/sdxl").respond(401, json=fx.problem(401, "You did not pass a valid token"))
    ran = mocked("run stability-ai/sdxl prompt=hi")
    assert ran.code == 1 and isinstance(ran.error, AuthError)
    assert [c.request.method for c in api.calls] == ["GET"]  # nothing created
    dry = mocked("run stability-ai/sdxl promt=unvalidated", dry_run=True)
    assert dry.code == 0 and "inputs not validated" in dry.stderr
    assert f'POST {BASE}/models/stability-ai/sdxl/predictions {{"input":{{"promt":"unvalidated"}}}}' in dry.stdout
    assert [c.request.method for c in api.calls] == ["GET", "GET"]  # printed, not sent


# files ----------------------------------------------------------------------------------


def test_at_file_is_uploaded_and_its_url_passed(api, tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"\x89PNG fake")
    mock_model(api)
    upload = api.post(f"{BASE}/files").respond(201, json=fx.file())
    create = model_create(api).respond(201, json=fx.prediction("succeeded"))
    assert mocked(f"run stability-ai/sdxl prompt=hi image=@{photo}").code == 0
    assert upload.called
    assert b"\x89PNG fake" in upload.calls.last.request.content
    assert body_of(create)["input"]["image"] == f"{BASE}/files/{fx.FILE_ID}"


def test_file_encoding_data_inlines_small_files_and_refuses_big_ones(api, tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"\x89PNG small")
    mock_model(api)
    create = model_create(api).respond(201, json=fx.prediction("succeeded"))
    assert mocked(f"run stability-ai/sdxl prompt=hi image=@{photo} --file-encoding data").code == 0
    expected = "data:image/png;base64," + base64.b64encode(b"\x89PNG small").decode()
    assert body_of(create)["input"]["image"] == expected
    assert not any(c.request.url.path.endswith("/files") for c in api.calls)  # nothing uploaded

    big = tmp_path / "big.png"
    big.write_bytes(b"x" * (1024 * 1024 + 1))
    ran = mocked(f"run stability-ai/sdxl prompt=hi image=@{big} --file-encoding data")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "too large" in ran.error.message
    assert create.call_count == 1 and not any(c.request.url.path.endswith("/files") for c in api.calls)


def test_the_sessions_set_options_reach_run_once_through_the_parse(api, tmp_path):
    """`set file_encoding data` and `set separator :` apply to a run without flags; a
    flag given wins. The parse puts the option in the flag's place; handlers read only that."""
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"\x89PNG small")
    mock_model(api)
    create = model_create(api).respond(201, json=fx.prediction("succeeded"))
    session = Session(options={"file_encoding": "data", "separator": ":"})
    assert mocked(f"run stability-ai/sdxl prompt:hi image:@{photo}", session=session).code == 0
    sent = body_of(create)["input"]
    assert sent["prompt"] == "hi" and sent["image"].startswith("data:image/png;base64,")
    assert mocked("run stability-ai/sdxl prompt=hi --separator =", session=session).code == 0
    assert body_of(create)["input"] == {"prompt": "hi"}


# waiting -------------------------------------------------------------------------------


def test_polls_with_growing_backoff_and_prints_only_new_logs(api, sleeps):
    mock_model(api)
    create = model_create(api).respond(201, json=unstreamed("starting"))
    states = [
        unstreamed("processing", logs="step 1\n"),
        unstreamed("processing", logs="step 1\nstep 2\nhalf a li"),
        unstreamed("processing", logs="step 1\nstep 2\nhalf a line\n"),
        unstreamed("succeeded", logs="step 1\nstep 2\nhalf a line\ndone\n"),
    ]
    get = api.get(f"{BASE}/predictions/{PID}").mock(side_effect=[httpx.Response(200, json=s) for s in states])
    ran = mocked("run stability-ai/sdxl prompt=hi")
    assert create.calls.last.request.headers["Prefer"] == "wait"
    assert get.call_count == 4
    assert sleeps == pytest.approx([0.2, 0.3, 0.45, 0.45])  # the clock moves only by these pauses
    assert ran.code == 0 and ran.data["status"] == "succeeded"
    for line in ("step 1", "step 2", "half a line", "done"):
        assert ran.stderr.count(line) == 1, ran.stderr
    assert "half a li\n" not in ran.stderr  # partial lines wait for their end


def test_polls_at_most_3_times_a_second_and_never_more_than_half_a_second_apart(api, sleeps):
    mock_model(api)
    model_create(api).respond(201, json=unstreamed("processing"))
    states = [unstreamed("processing")] * 15 + [unstreamed("succeeded")]
    api.get(f"{BASE}/predictions/{PID}").mock(side_effect=[httpx.Response(200, json=s) for s in states])
    assert mocked("run stability-ai/sdxl prompt=hi").code == 0
    assert len(sleeps) == 16
    assert max(sleeps) <= 0.45 + 1e-9  # under SPEC's 0.5 s, with room for a late wake-up
    assert sleeps[:3] == sorted(sleeps[:3]) and sleeps[3:] == pytest.approx([0.45] * 13)  # backoff, then steady
    elapsed = [sum(sleeps[: i + 1]) for i in range(len(sleeps))]  # when each poll goes out
    for i, start in enumerate(elapsed):
        assert sum(1 for t in elapsed[i:] if t < start + 1.0) <= 3  # any one-second window


def test_a_slow_poll_shortens_the_next_pause_so_the_gap_stays_from_request_to_request(api, sleeps):
    """Each interval runs from the previous request's start: a request that took 0.1 s
    leaves 0.35 s of the 0.45 s gap to wait."""
    mock_model(api)
    model_create(api).respond(201, json=unstreamed("processing"))
    states = iter([unstreamed("processing")] * 4 + [unstreamed("succeeded")])

    def slow(request: httpx.Request) -> httpx.Response:
        sleeps.clock += 0.1
        return httpx.Response(200, json=next(states))

    api.get(f"{BASE}/predictions/{PID}").mock(side_effect=slow)
    assert mocked("run stability-ai/sdxl prompt=hi").code == 0
    assert sleeps == pytest.approx([0.2, 0.2, 0.35, 0.35, 0.35])


def test_a_prediction_past_the_sync_window_is_followed_by_its_stream_not_polled(api, sleeps):
    mock_model(api)
    model_create(api).respond(201, json=fx.prediction("starting"))
    events = [("logs", "step 1"), ("output", '["https://replicate.delivery/x.png"]'), ("done", "{}")]
    stream = api.get(STREAM_URL).respond(200, content=fx.sse_body(events), headers=SSE)
    get = api.get(f"{BASE}/predictions/{PID}").respond(200, json=fx.prediction("succeeded", logs="step 1\n"))
    ran = mocked("run stability-ai/sdxl prompt=hi")
    assert stream.called and get.call_count == 1  # `done`, then one GET for the final object
    assert sleeps == []  # no poll loop at all
    # not streaming: output events are not printed as tokens, only the result's summary
    assert ran.code == 0 and ran.stdout == "https://replicate.delivery/pbxt/abc123/out-0.png\n"
    assert ran.stderr.count("step 1") == 1


@pytest.mark.parametrize("where", ["create", "poll"])
def test_an_unknown_status_is_an_error_after_the_response_that_shows_it(api, sleeps, where):
    mock_model(api)
    weird = unstreamed("exploded")
    model_create(api).respond(201, json=weird if where == "create" else unstreamed("processing"))
    if where == "poll":
        api.get(f"{BASE}/predictions/{PID}").respond(200, json=weird)
    ran = mocked("run stability-ai/sdxl prompt=hi")
    assert ran.code == 1 and isinstance(ran.error, RshellError)
    assert "status rshell does not know: 'exploded'" in ran.error.message
    assert ran.error.exit_code == 1 and f"prediction show {PID}" in (ran.error.hint or "")
    polls = [c for c in api.calls if c.request.method == "GET" and c.request.url.path.endswith(PID)]
    assert len(polls) == (0 if where == "create" else 1)  # no poll after the one that showed it


def test_no_wait_returns_the_created_prediction_at_once(api, sleeps):
    mock_model(api)
    create = model_create(api).respond(201, json=fx.prediction("starting"))
    ran = mocked("run stability-ai/sdxl prompt=hi --no-wait")
    assert "Prefer" not in create.calls.last.request.headers
    assert [c.request.method for c in api.calls] == ["GET", "POST"] and not sleeps  # no poll
    assert ran.code == 0 and ran.data["status"] == "starting"


@pytest.mark.parametrize(("status", "why"), [("failed", ": CUDA out of memory"), ("canceled", ""), ("aborted", "")])
def test_unsuccessful_prediction_is_not_ok(api, status, why):
    mock_model(api)
    model_create(api).respond(201, json=fx.prediction(status))
    session = Session()
    ran = mocked("run stability-ai/sdxl prompt=hi", session=session)
    assert ran.code == 1
    assert ran.error.message == f"prediction {PID} {status}{why}"
    assert ran.data["status"] == status
    assert session.in_flight == {}


def test_spinner_only_on_a_terminal(api, sleeps, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # the status line is cut to the terminal width
    mock_model(api)
    model_create(api).respond(201, json=unstreamed("processing"))
    api.get(f"{BASE}/predictions/{PID}").respond(200, json=unstreamed("succeeded"))
    plain = mocked("run stability-ai/sdxl prompt=hi")
    assert plain.code == 0 and "\r" not in plain.stderr
    tty = mocked("run stability-ai/sdxl prompt=hi", stderr_tty=True)
    assert f"\r| {PID} processing" in tty.stderr
    assert "[##########----------]  50%" in tty.stderr  # the fixture's logs carry 50%|


# streaming -----------------------------------------------------------------------------


def llm_prediction(status: str, **overrides: Any) -> dict:
    return fx.prediction(status, model=LLM, version=fx.LLM_VERSION_ID, **overrides)


def test_stream_prints_tokens_in_order_and_logs_on_stderr(api, sleeps):
    mock_model(api, "meta", "llama", llm=True)
    create = model_create(api, "meta", "llama").respond(201, json=llm_prediction("starting"))
    events = [("logs", "loading weights"), ("output", "Hel"), ("output", "lo,"), ("output", " world"), ("done", "{}")]
    stream = api.get(STREAM_URL).respond(200, content=fx.sse_body(events), headers=SSE)
    final = llm_prediction("succeeded", output=["Hel", "lo,", " world"], logs="loading weights\n")
    api.get(f"{BASE}/predictions/{PID}").respond(200, json=final)
    ran = mocked(f"stream {LLM} prompt=hi")
    assert body_of(create)["stream"] is True
    assert "Prefer" not in create.calls.last.request.headers
    assert stream.called
    assert ran.stdout == "Hello, world\n"  # the tokens, then the line ended: not printed twice
    assert ran.stderr.count("loading weights") == 1
    assert ran.code == 0
    assert ran.data["output"] == ["Hel", "lo,", " world"]


def test_auto_stream_on_a_terminal_for_concatenate_output(api, sleeps):
    mock_model(api, "meta", "llama", llm=True)
    create = model_create(api, "meta", "llama").respond(201, json=llm_prediction("starting"))
    api.get(STREAM_URL).respond(200, content=fx.sse_body([("output", "Hi"), ("done", "{}")]), headers=SSE)
    api.get(f"{BASE}/predictions/{PID}").respond(200, json=llm_prediction("succeeded", output=["Hi"]))
    tty = mocked(f"run {LLM} prompt=hi", stdout_tty=True)
    assert body_of(create)["stream"] is True
    assert tty.stdout == "Hi\n"  # the token, then the line ended
    # not a terminal: wait synchronously instead and join the iterator in the text
    ran = mocked(f"run {LLM} prompt=hi")
    assert "stream" not in body_of(create)
    assert create.calls.last.request.headers["Prefer"] == "wait"
    assert ran.stdout == "Hi\n"


def test_broken_stream_resumes_once_with_last_event_id(api, sleeps):
    mock_model(api, "meta", "llama", llm=True)
    model_create(api, "meta", "llama").respond(201, json=llm_prediction("starting"))
    first = fx.sse_body([("output", "one "), ("output", "two ")])  # ends before done
    rest = fx.sse_body([("output", "three"), ("done", "{}")]).replace(b"id: 1", b"id: 3").replace(b"id: 2", b"id: 4")
    stream = api.get(STREAM_URL).mock(
        side_effect=[httpx.Response(200, content=first, headers=SSE), httpx.Response(200, content=rest, headers=SSE)]
    )
    api.get(f"{BASE}/predictions/{PID}").respond(
        200, json=llm_prediction("succeeded", output=["one ", "two ", "three"])
    )
    ran = mocked(f"stream {LLM} prompt=hi")
    assert stream.call_count == 2
    assert "Last-Event-ID" not in stream.calls[0].request.headers
    assert stream.calls[1].request.headers["Last-Event-ID"] == "2"
    assert ran.stdout == "one two three\n"


def test_stream_broken_twice_falls_back_to_polling_and_prints_the_rest(api, sleeps):
    mock_model(api, "meta", "llama", llm=True)
    model_create(api, "meta", "llama").respond(201, json=llm_prediction("starting"))
    api.get(STREAM_URL).respond(200, content=fx.sse_body([("output", "one ")]), headers=SSE)
    states = [llm_prediction("processing"), llm_prediction("succeeded", output=["one ", "two"])]
    get = api.get(f"{BASE}/predictions/{PID}").mock(side_effect=[httpx.Response(200, json=s) for s in states])
    ran = mocked(f"stream {LLM} prompt=hi")
    assert get.call_count == 2
    assert "polling instead" in ran.stderr
    assert ran.stdout == "one two\n"
    assert ran.code == 0


# --save and --web ------------------------------------------------------------------------


def test_save_downloads_every_output_file_under_safe_names(api, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    output = {
        "images": ["https://replicate.delivery/a/out.png", "https://replicate.delivery/b/out.png"],
        "evil": "https://evil.test/%2E%2E%2F%2E%2E%2Fescape.sh?name=../../x",
        "inline": "data:text/plain;base64," + base64.b64encode(b"inline text").decode(),
        "score": 0.5,
    }
    mock_model(api)
    model_create(api).respond(201, json=fx.prediction("succeeded", output=output))
    api.get("https://replicate.delivery/a/out.png").respond(200, content=b"A" * 100_000)
    api.get("https://replicate.delivery/b/out.png").respond(200, content=b"B")
    evil = api.route(method="GET", scheme="https", host="evil.test").respond(200, content=b"#!/bin/sh")
    ran = mocked("run stability-ai/sdxl prompt=hi --save")
    directory = tmp_path / PID
    names = sorted(p.name for p in directory.iterdir())
    assert names == ["escape.sh", "out-1.png", "out.png", "output-3.txt", "output.json"]
    assert (directory / "out.png").read_bytes() == b"A" * 100_000
    assert (directory / "out-1.png").read_bytes() == b"B"
    assert (directory / "output-3.txt").read_bytes() == b"inline text"
    assert json.loads((directory / "output.json").read_text()) == output
    assert "Authorization" not in evil.calls.last.request.headers  # the token stays with the API
    assert not (tmp_path.parent / "escape.sh").exists()
    for name in names:  # each path once, on stdout (issue 22 item 7)
        assert (ran.stdout + ran.stderr).count(str(directory / name) + "\n") == 1
    assert "out.png was already in" in ran.stderr  # the second out.png: its new name is said
    assert ran.code == 0 and ran.data["output"] == output  # data stays the API object


def test_save_into_output_directory_with_text_output(api, tmp_path):
    mock_model(api, "meta", "llama", llm=True)
    model_create(api, "meta", "llama").respond(201, json=llm_prediction("succeeded", output=["Hel", "lo"]))
    target = tmp_path / "outs"
    ran = mocked(f"run {LLM} prompt=hi --save --output-directory {target}")
    assert (target / "output.txt").read_text() == "Hello"
    assert ran.stdout.splitlines() == ["Hello", str(target.resolve() / "output.txt")]


def test_save_failure_makes_the_statement_fail_but_keeps_the_data(api, tmp_path):
    mock_model(api)
    model_create(api).respond(201, json=fx.prediction("succeeded"))
    api.get("https://replicate.delivery/pbxt/abc123/out-0.png").respond(404)
    ran = mocked(f"run stability-ai/sdxl prompt=hi --save --output-directory {tmp_path}")
    assert ran.code == 1 and "could not save 1 file" in ran.error.message
    assert ran.data["id"] == PID
    assert list(tmp_path.iterdir()) == []


def test_save_of_a_data_url_that_does_not_decode_names_the_output(api, tmp_path):
    good = "data:image/png;base64," + base64.b64encode(b"\x89PNG ok").decode()
    mock_model(api)
    model_create(api).respond(201, json=fx.prediction("succeeded", output=[good, "data:image/png;base64,!!!"]))
    ran = mocked(f"run stability-ai/sdxl prompt=hi --save --output-directory {tmp_path}")
    assert ran.code == 1
    assert ran.error.message == "could not save 1 file(s): output 1: bad data URL (invalid base64)"
    assert [p.name for p in tmp_path.iterdir()] == ["output-0.png"]  # no empty output-1.png
    assert (tmp_path / "output-0.png").read_bytes() == b"\x89PNG ok"


def test_web_prints_the_url_without_a_browser(api, monkeypatch):
    monkeypatch.setattr(running, "_has_browser", lambda: False)
    api.get(f"{BASE}/predictions/{PID}").respond(200, json=fx.prediction("succeeded"))
    ran = mocked(f"prediction show {PID} --web")
    assert f"https://replicate.com/p/{PID}" in ran.stderr


def test_web_opens_a_browser_when_there_is_one(api, monkeypatch):
    opened: list[str] = []
    monkeypatch.setattr(running, "_has_browser", lambda: True)
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    mock_model(api)
    model_create(api).respond(201, json=fx.prediction("succeeded"))
    assert mocked("run stability-ai/sdxl prompt=hi --web").code == 0
    assert opened == [f"https://replicate.com/p/{PID}"]


# Ctrl-C -------------------------------------------------------------------------------------


def test_ctrl_c_while_polling_cancels_on_the_server(api, sleeps):
    mock_model(api)
    model_create(api).respond(201, json=unstreamed("processing"))
    get = api.get(f"{BASE}/predictions/{PID}").respond(200, json=unstreamed("processing"))
    cancel = api.post(f"{BASE}/predictions/{PID}/cancel").respond(200, json=fx.prediction("canceled"))
    session = Session()
    ran = mocked("run stability-ai/sdxl prompt=hi", session=session, interrupt_when=lambda: get.call_count >= 2)
    assert ran.code == 130 and isinstance(ran.error, Interrupted), ran.errors
    assert cancel.called
    error = ran.error
    assert isinstance(error.result, Result) and error.result.data["status"] == "canceled"
    assert error.result.ok is False
    assert ran.data["status"] == "canceled"  # bound to `_` too
    assert f"canceled prediction {PID}" in ran.stderr
    assert PID not in session.in_flight


def test_ctrl_c_while_streaming_cancels_too(api, sleeps):
    mock_model(api, "meta", "llama", llm=True)
    model_create(api, "meta", "llama").respond(201, json=llm_prediction("starting"))
    started = asyncio.Event()

    async def endless(request: httpx.Request) -> httpx.Response:
        async def body():
            yield b"event: output\nid: 1\ndata: tok\n\n"
            started.set()
            await asyncio.sleep(3600)

        return httpx.Response(200, content=body(), headers=SSE)

    api.get(STREAM_URL).mock(side_effect=endless)
    cancel = api.post(f"{BASE}/predictions/{PID}/cancel").respond(200, json=llm_prediction("canceled"))
    ran = mocked(f"stream {LLM} prompt=hi", interrupt_when=started.is_set)
    assert ran.code == 130 and isinstance(ran.error, Interrupted) and cancel.called
    assert ran.stdout == "tok\n"  # the line ended before the error


# list, show, cancel -------------------------------------------------------------------------


def test_list_is_a_table_and_data_is_the_page(api, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    second = fx.prediction("failed", prediction_id="p2second")
    api.get(f"{BASE}/predictions").respond(200, json=fx.page([fx.prediction("succeeded"), second]))
    ran = mocked("prediction list")
    lines = ran.stdout.splitlines()
    assert lines[0].split() == ["ID", "MODEL", "STATUS", "CREATED_AT"]
    assert lines[1].split() == [PID, "stability-ai/sdxl", "succeeded", "2024-05-14", "10:00"]
    assert lines[2].split()[:3] == ["p2second", "stability-ai/sdxl", "failed"]
    assert [p["id"] for p in ran.data["results"]] == [PID, "p2second"]  # the API's page, as --json shows


def test_show_summarises_the_prediction(api):
    api.get(f"{BASE}/predictions/{PID}").respond(200, json=fx.prediction("failed"))
    ran = mocked(f"p show {PID}")
    assert ran.data["status"] == "failed"
    text = ran.stdout
    for expected in (
        PID,
        "stability-ai/sdxl",
        fx.VERSION_ID,
        "failed",
        "2024-05-14 10:00",
        "4.2s",
        "CUDA out of memory",
        "Using seed: 4223",
    ):
        assert expected in text, expected


def test_cancel_posts_cancel(api):
    cancel = api.post(f"{BASE}/predictions/{PID}/cancel").respond(200, json=fx.prediction("canceled"))
    ran = mocked(f"prediction cancel {PID}")
    assert cancel.called
    assert ran.data["status"] == "canceled"
    assert ran.stdout == f"prediction {PID} canceled\n"


def test_printed_output_forms(api):
    mock_model(api)
    model_create(api).respond(201, json=fx.prediction("succeeded", output={"label": "cat", "score": 0.9}))
    ran = mocked("run stability-ai/sdxl prompt=hi")
    assert json.loads(ran.stdout) == {"label": "cat", "score": 0.9}
    model_create(api).respond(201, json=fx.prediction("succeeded", output="plain \x1b[31mtext"))
    assert (
        mocked("run stability-ai/sdxl prompt=hi").stdout == "plain \\x1b[31mtext\n"
    )  # control sequences neutralised on the way out


def test_token_never_appears_in_output(api, sleeps):
    mock_model(api)
    model_create(api).respond(201, json=unstreamed("processing"))
    api.get(f"{BASE}/predictions/{PID}").respond(200, json=fx.prediction("failed"))
    ran = mocked("run stability-ai/sdxl prompt=hi")
    assert ran.code == 1
    assert TOKEN not in ran.stderr + ran.stdout + json.dumps(ran.data) + " ".join(ran.error.lines())


def test_working_directory_default_for_save_is_the_prediction_id(api, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mock_model(api)
    model_create(api).respond(201, json=fx.prediction("succeeded"))
    api.get("https://replicate.delivery/pbxt/abc123/out-0.png").respond(200, content=b"png")
    assert mocked("run stability-ai/sdxl prompt=hi --save").code == 0
    assert (Path(tmp_path) / PID / "out-0.png").read_bytes() == b"png"


def test_logs_never_glue_to_streamed_text_on_a_shared_terminal(api, sleeps):
    mock_model(api, "meta", "llama", llm=True)
    model_create(api, "meta", "llama").respond(201, json=llm_prediction("starting"))
    events = [("output", "Hi"), ("logs", "halfway"), ("output", " there"), ("done", "{}")]
    api.get(STREAM_URL).respond(200, content=fx.sse_body(events), headers=SSE)
    api.get(f"{BASE}/predictions/{PID}").respond(200, json=llm_prediction("succeeded", output=["Hi", " there"]))
    tty = mocked(f"stream {LLM} prompt=hi", stdout_tty=True, stderr_tty=True)
    assert tty.stdout == "Hi\n there\n"
    assert "halfway\n" in tty.stderr
    piped = mocked(f"stream {LLM} prompt=hi")  # separate streams: stdout keeps exactly the model's text
    assert piped.stdout == "Hi there\n"


def _held_create(api) -> asyncio.Event:
    """A create the server holds (inside `Prefer: wait`) until the test ends."""
    entered = asyncio.Event()

    async def slow_create(request: httpx.Request) -> httpx.Response:
        entered.set()
        await asyncio.sleep(3600)
        return httpx.Response(201, json=fx.prediction("succeeded"))

    api.post(f"{BASE}/models/stability-ai/sdxl/predictions", name="slow create").mock(side_effect=slow_create)
    return entered


def test_ctrl_c_inside_the_sync_wait_finds_the_prediction_and_cancels_it(api):
    """No id came back: the newest prediction of this model whose input holds the
    sent input (the server adds defaults) is the one, and it is canceled."""
    mock_model(api)
    entered = _held_create(api)
    now = datetime.now(UTC).isoformat()
    mine = fx.prediction("processing", prediction_id="mine", created_at=now, input={"prompt": "hi", "width": 1024})
    other_input = fx.prediction("processing", prediction_id="other-input", created_at=now, input={"prompt": "ho"})
    other_model = fx.prediction("processing", prediction_id="other-model", created_at=now, model="a/b")
    known = fx.prediction("processing", prediction_id="known", created_at=now, input={"prompt": "hi"})
    listed = api.get(f"{BASE}/predictions").respond(200, json=fx.page([known, other_model, other_input, mine]))
    canceled = api.post(f"{BASE}/predictions/mine/cancel").respond(
        200, json=fx.prediction("canceled", prediction_id="mine")
    )
    session = Session()
    session.bind("bg", known)  # an earlier `--no-wait` run with the same input: the session's own
    ran = mocked("run stability-ai/sdxl prompt=hi", interrupt_when=entered.is_set, session=session)
    api.pop("slow create")  # it was sent (entered is set), but respx records a call only once answered
    assert ran.code == 130 and isinstance(ran.error, Interrupted)
    assert canceled.called and "canceled prediction mine" in ran.stderr
    assert listed.calls[0].request.url.params["created_after"]  # only what was created since the send
    assert ran.data["status"] == "canceled"


def test_ctrl_c_inside_the_sync_wait_with_nothing_found_says_where_to_look(api, monkeypatch):
    from rshell.commands import running

    monkeypatch.setattr(running, "FIND_FOR", 0.0)
    mock_model(api)
    entered = _held_create(api)
    old = fx.prediction("processing", prediction_id="old", input={"prompt": "hi"})  # created long before
    api.get(f"{BASE}/predictions").respond(200, json=fx.page([old]))
    ran = mocked("run stability-ai/sdxl prompt=hi", interrupt_when=entered.is_set)
    api.pop("slow create")
    assert ran.code == 130 and isinstance(ran.error, Interrupted)
    error = ran.error
    assert "may still be running" in error.message and "prediction list" in (error.hint or "")
    assert not any(c.request.url.path.endswith("/cancel") for c in api.calls)  # nothing found: nothing pretended


@pytest.mark.parametrize(
    ("text", "owner", "name", "version"),
    [
        ("stability-ai/sdxl", "stability-ai", "sdxl", None),
        (f"stability-ai/sdxl:{fx.VERSION_ID}", "stability-ai", "sdxl", fx.VERSION_ID),
        ("meta/llama-2.7b_chat", "meta", "llama-2.7b_chat", None),
        (fx.VERSION_ID, None, None, fx.VERSION_ID),
    ],
)
def test_parse_model_ref_forms(text, owner, name, version):
    from rshell.commands.modelref import parse_model_ref

    ref = parse_model_ref(text)
    assert (ref.owner, ref.name, ref.version) == (owner, name, version)
    assert str(ref) == text


@pytest.mark.parametrize(
    "bad", ["sdxl", "a/b/c", "a/", "/b", "a/b:", "a b/c", fx.VERSION_ID[:-1], "owner/name:ver sion"]
)
def test_parse_model_ref_rejects_malformed(bad):
    from rshell.commands.modelref import parse_model_ref

    with pytest.raises(UsageError, match="expected owner/name"):
        parse_model_ref(bad)


def test_spinner_during_the_sync_wait_is_cleared_before_the_logs(api):
    mock_model(api)
    model_create(api).respond(201, json=fx.prediction("succeeded"))
    ran = mocked("run stability-ai/sdxl prompt=hi", stderr_tty=True)
    # drawn when the create was sent (the sync wait may hold 60 s), labelled with the model
    assert ran.stderr.startswith("\r| stability-ai/sdxl starting 0.")
    spinner, rest = ran.stderr.split("\n", 1)[0].rsplit("\r", 1)
    assert rest == "Using seed: 4223"  # blanked out, then the logs on a clean line
    assert spinner.endswith(" " * len("| stability-ai/sdxl starting 0.0s"))
    assert ran.out is not None and ran.out.live is None  # nothing left for later stderr lines to step around


def test_stream_in_json_mode_keeps_stdout_for_the_json(api, sleeps):
    mock_model(api, "meta", "llama", llm=True)
    create = model_create(api, "meta", "llama").respond(201, json=llm_prediction("starting"))
    api.get(STREAM_URL).respond(200, content=fx.sse_body([("output", "one "), ("logs", "a log")]), headers=SSE)
    states = [llm_prediction("succeeded", output=["one ", "two"])]
    api.get(f"{BASE}/predictions/{PID}").mock(side_effect=[httpx.Response(200, json=s) for s in states])
    ran = mocked(f"stream {LLM} prompt=hi --json")
    assert body_of(create)["stream"] is True
    assert ran.json["output"] == ["one ", "two"]  # no tokens: stdout is the JSON alone
    assert "a log" in ran.stderr
