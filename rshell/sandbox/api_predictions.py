"""Predictions (by model, version or deployment), their SSE stream, and trainings."""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, StreamingResponse

from rshell import writes
from rshell.sandbox import ids, render
from rshell.sandbox.core import caller_owns
from rshell.sandbox.events import Event
from rshell.sandbox.inputs import validate_inputs
from rshell.sandbox.pagination import Newest, page
from rshell.sandbox.problems import Problem, invalid, not_found
from rshell.sandbox.store import Query, Record
from rshell.sandbox.urls import internalise, publicise
from rshell.sandbox.web import expect_string, json_object, origin, param, reply, sandbox

MAX_WAIT = 60.0
PREFER = re.compile(r"^\s*wait(?:\s*=\s*(\d+))?\s*$")
MAX_CANCEL_AFTER = 7 * 24 * 3600  # a week; past it a deadline is surely a mistake


# creating ---------------------------------------------------------------------------


def prefer_wait(request: Request) -> float | None:
    """Seconds to hold the response from `Prefer: wait[=N]` (capped at 60), or None."""
    header = request.headers.get("prefer")
    if header is None:
        return None
    match = PREFER.match(header)
    if not match:
        raise Problem(400, "Prefer: must be `wait` or `wait=N` with N seconds between 1 and 60")
    seconds = float(match.group(1) or MAX_WAIT)
    if seconds < 1:
        raise Problem(400, "Prefer: wait=N needs N of at least 1")
    return min(seconds, MAX_WAIT)


def cancel_after(request: Request) -> float | None:
    """Seconds from `Cancel-After` (`30`, `90s`, `5m`, `1h30m45s`); from 5 s to a week."""
    header = (request.headers.get("cancel-after") or "").strip()
    if not header:
        return None
    try:
        total = float(writes.parse_duration(header))
    except ValueError as exc:
        raise invalid(f"Cancel-After: {exc}") from None
    if total > MAX_CANCEL_AFTER:
        raise invalid(f"Cancel-After: the maximum duration is {MAX_CANCEL_AFTER // 3600}h")
    return total


def _request_body(body: dict[str, Any], operation: str) -> dict[str, Any]:
    """The body checked against the operation's fields (rshell/writes.py, from the spec)."""
    reason = writes.problem(operation, body)
    if reason:
        raise invalid(reason)
    return body


def new_run(box: Any, here: str, model: str, version_id: str, inputs: dict[str, Any], body: dict[str, Any]) -> Record:
    """The stored record of a prediction or training just created: the fields both
    start with (each kind adds its own); inputs already validated, files made local."""
    return {
        "id": ids.new_id(),
        "model": model,
        "version": version_id,
        "input": internalise(inputs, box.origins + (here,)),
        "output": None,
        "logs": "",
        "error": None,
        "status": "starting",
        "created_at": ids.timestamp(),
        "source": "api",
        "metrics": {},
        "_webhook": body.get("webhook"),
        "_webhook_events_filter": body.get("webhook_events_filter"),
    }


async def _create(
    request: Request, version: dict[str, Any], body: dict[str, Any], deployment: str | None = None
) -> JSONResponse:
    """Validate, store, queue; then answer at once or after the `Prefer: wait` window."""
    box, here = sandbox(request), origin(request)
    wait, deadline = prefer_wait(request), cancel_after(request)
    predictor = box.predictor(version)
    inputs = validate_inputs(version.get("openapi_schema"), body["input"])
    record = new_run(box, here, version["model"], version["id"], inputs, body)
    record["data_removed"] = False
    record["_official"] = box.is_official(version["model"])  # shown as version "hidden"
    record["_streams"] = render.output_streams(version.get("openapi_schema"))  # has urls.stream
    if deployment:
        record["deployment"] = deployment
    if deadline is not None:
        record["deadline"] = ids.later(deadline)
    view = render.run_view("predictions", record, here)
    box.start_run(
        "predictions",
        record,
        predictor,
        version.get("weights"),
        deadline=None if deadline is None else time.monotonic() + deadline,
    )
    if wait is None:
        return reply(view, 201)
    done = await box.events_for("predictions", record["id"]).wait_done(wait)
    view = render.run_view("predictions", box.store.snapshot("predictions", record["id"]) or record, here)
    if done:
        return reply(view, 201)
    view["status"] = "starting"  # what Replicate reports when the window passes; clients poll on it
    return reply(view, 202)


async def create_by_model(request: Request) -> JSONResponse:
    body = _request_body(await json_object(request), "models.predictions.create")
    version = sandbox(request).runnable_version(param(request, "model_owner"), param(request, "model_name"))
    return await _create(request, version, body)


async def create_by_version(request: Request) -> JSONResponse:
    body = _request_body(await json_object(request), "predictions.create")
    ref = expect_string(body, "version") or ""
    return await _create(request, sandbox(request).find_version(ref), body)


async def create_by_deployment(request: Request) -> JSONResponse:
    body = _request_body(await json_object(request), "deployments.predictions.create")
    box = sandbox(request)
    key = f"{param(request, 'deployment_owner')}/{param(request, 'deployment_name')}"
    deployment = box.store.snapshot("deployments", key)
    if deployment is None:
        raise not_found("deployment", key)
    current = deployment["releases"][-1]
    return await _create(request, box.version(current["model"], current["version"]), body, deployment=key)


# reading and canceling --------------------------------------------------------------


def _run(request: Request, kind: str, key: str) -> dict[str, Any]:
    record = sandbox(request).store.snapshot(kind, param(request, key))
    if record is None:
        raise not_found(kind[:-1], param(request, key))
    return record


async def predictions_get(request: Request) -> JSONResponse:
    return reply(render.run_view("predictions", _run(request, "predictions", "prediction_id"), origin(request)))


async def predictions_list(request: Request) -> JSONResponse:
    after = _date(request, "created_after")
    before = _date(request, "created_before")
    source = request.query_params.get("source")
    if source not in (None, "web"):
        raise invalid("source: only `web` can be filtered on")
    runs = Newest(
        sandbox(request).store,
        "predictions",
        Query(created_after=after, created_before=before),
        where=None if source is None else lambda p: p.get("source") == source,
    )
    here = origin(request)
    return reply(page(request, runs, lambda p: render.run_view("predictions", p, here)))


def _date(request: Request, name: str) -> str | None:
    """A date filter in the stored dates' own format (so they compare as text); a date
    without a zone is UTC."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        moment = ids.parse_iso(raw)
    except ValueError:
        raise invalid(f"{name}: not an ISO 8601 date-time") from None
    return ids.iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


async def predictions_cancel(request: Request) -> JSONResponse:
    _run(request, "predictions", "prediction_id")
    box = sandbox(request)
    box.runner.cancel("predictions", param(request, "prediction_id"))
    return reply(render.run_view("predictions", _run(request, "predictions", "prediction_id"), origin(request)))


# the stream -------------------------------------------------------------------------


async def predictions_stream(request: Request) -> StreamingResponse:
    """SSE: every event after `Last-Event-ID` (all of them on first connect) until done."""
    record = _run(request, "predictions", "prediction_id")
    raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id") or "0"
    after = int(raw) if raw.strip().isdigit() else 0
    log = sandbox(request).events_for("predictions", record["id"])
    here = origin(request)

    async def body() -> AsyncIterator[str]:
        yield "retry: 1000\n\n"
        async for item in log.follow(after):
            yield ": keep-alive\n\n" if item is None else format_event(item, here)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(body(), media_type="text/event-stream", headers=headers)


def format_event(item: Event, here: str) -> str:
    """One SSE frame; text outputs go raw (token streams), everything else as JSON."""
    data = publicise(item.data, here)
    text = data if isinstance(data, str) and item.event in ("output", "logs") else json.dumps(data)
    lines = [f"event: {item.event}", f"id: {item.id}"] + [f"data: {line}" for line in text.split("\n")]
    return "\n".join(lines) + "\n\n"


async def web_page(request: Request) -> HTMLResponse:
    """`urls.web`: a plain page showing a run, so `--web` opens something real."""
    box = sandbox(request)
    run_id = param(request, "run_id")
    for kind in ("predictions", "trainings"):
        record = box.store.snapshot(kind, run_id)
        if record is not None:
            view = render.run_view(kind, record, origin(request))
            shown = html.escape(json.dumps(view, indent=2))
            return HTMLResponse(
                f"<!doctype html><title>{kind[:-1]} {run_id}</title>"
                f"<h1>{html.escape(view['model'])}: {view['status']}</h1><pre>{shown}</pre>"
            )
    raise not_found("prediction", run_id)


# trainings --------------------------------------------------------------------------


async def trainings_create(request: Request) -> JSONResponse:
    box, here = sandbox(request), origin(request)
    owner, name, version_id = (param(request, k) for k in ("model_owner", "model_name", "version_id"))
    body = _request_body(await json_object(request), "trainings.create")
    version = box.listed_version(owner, name, version_id)
    trainer = box.predictor(version)
    if not getattr(trainer, "trainable", False):
        raise invalid(f"model {owner}/{name} is not trainable")
    destination = _destination(box, expect_string(body, "destination") or "")
    if not isinstance(body.get("input"), dict):
        raise invalid("input: field is required and must be a JSON object")
    schema = version.get("openapi_schema") or {}
    component = "TrainingInput" if "TrainingInput" in schema.get("components", {}).get("schemas", {}) else "Input"
    inputs = validate_inputs(schema, body["input"], component)
    record = new_run(box, here, f"{owner}/{name}", version_id, inputs, body)
    record["destination"] = destination
    view = render.run_view("trainings", record, here)
    box.start_run(
        "trainings",
        record,
        trainer,
        version.get("weights"),
        on_success=lambda result: _new_version(box, destination, result),
    )
    return reply(view, 201)


def _destination(box: Any, destination: str) -> str:
    """The training's destination: an existing model that belongs to the caller."""
    owner, _, name = destination.partition("/")
    if not owner or not name or "/" in name:
        raise invalid("destination: must be owner/name of a model you own")
    if box.store.get("models", destination) is None:
        raise not_found("destination model", f"{destination} (create it first with POST /v1/models)")
    if not caller_owns(owner):
        raise Problem(403, f"destination: {destination} belongs to {owner}; train into a model you own")
    return destination


def _new_version(box: Any, destination: str, result: Any) -> dict[str, str]:
    """Store the trainer's weights as a new version of the destination model.

    The output names it `owner/name:id`, as Replicate does (the official client parses it).
    """
    if not isinstance(result, dict) or "weights" not in result or "predictor" not in result:
        raise ValueError("the trainer returned no weights")
    key, _ = box.predictor_named(str(result["predictor"]))
    version = box.add_version(destination, key, result["weights"])
    weights_url = box.save_output_file(
        json.dumps(result["weights"], indent=2).encode("utf-8"), "weights.json", "application/json"
    )
    return {"version": f"{destination}:{version['id']}", "weights": weights_url}  # Replicate's form


async def trainings_get(request: Request) -> JSONResponse:
    return reply(render.run_view("trainings", _run(request, "trainings", "training_id"), origin(request)))


async def trainings_list(request: Request) -> JSONResponse:
    runs, here = Newest(sandbox(request).store, "trainings"), origin(request)
    return reply(page(request, runs, lambda t: render.run_view("trainings", t, here)))


async def trainings_cancel(request: Request) -> JSONResponse:
    _run(request, "trainings", "training_id")
    sandbox(request).runner.cancel("trainings", param(request, "training_id"))
    return reply(render.run_view("trainings", _run(request, "trainings", "training_id"), origin(request)))
