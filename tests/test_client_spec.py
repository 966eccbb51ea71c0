"""The fixtures and the client's request bodies checked against the official OpenAPI
description itself, so a drift from the spec fails here rather than against the API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

import api_fixtures as fx
import jsonschema
import pytest
import respx

from rshell import openapi
from rshell.client.api import ReplicateClient

SPEC_PATH = openapi.PATH  # the project's derived copy of the official description
BASE = fx.BASE


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text())


def to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 → JSON Schema: inline $refs, turn `nullable` into a null type."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return to_json_schema(spec()["components"]["schemas"][name])
    out = {key: to_json_schema(value) for key, value in node.items() if key not in ("example", "nullable")}
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def response_schema(method: str, path: str, status: str = "200") -> dict[str, Any]:
    content = spec()["paths"][path][method]["responses"][status]["content"]
    media = content.get("application/json") or content.get("application/problem+json")
    return to_json_schema(media["schema"])


def request_schema(method: str, path: str) -> dict[str, Any]:
    content = spec()["paths"][path][method]["requestBody"]["content"]
    return to_json_schema(next(iter(content.values()))["schema"])


CASES: list[tuple[str, str, str, Any]] = [
    ("get", "/account", "200", fx.account()),
    ("get", "/hardware", "200", fx.hardware_list()),
    ("get", "/models/{model_owner}/{model_name}", "200", fx.model()),
    ("get", "/models/{model_owner}/{model_name}", "200", fx.model(llm=True)),
    ("post", "/models", "201", fx.model("alice", "hot-dog")),
    ("get", "/models", "200", fx.page([fx.model()], next=f"{BASE}/models?cursor=x")),
    ("query", "/models", "200", fx.page([fx.model()])),
    ("get", "/models/{model_owner}/{model_name}/versions/{version_id}", "200", fx.version()),
    ("get", "/models/{model_owner}/{model_name}/versions", "200", fx.page([fx.version()])),
    ("get", "/models/{model_owner}/{model_name}/examples", "200", fx.page([fx.prediction()])),
    *[("get", "/predictions/{prediction_id}", "200", fx.prediction(s)) for s in fx.STATUSES],
    ("get", "/predictions", "200", fx.page([fx.prediction("aborted")])),
    *[("get", "/trainings/{training_id}", "200", fx.training(s)) for s in fx.STATUSES],
    ("get", "/trainings", "200", fx.page([fx.training()])),
    ("get", "/deployments/{deployment_owner}/{deployment_name}", "200", fx.deployment()),
    ("get", "/deployments", "200", fx.page([fx.deployment()])),
    ("get", "/files/{file_id}", "200", fx.file()),
    ("get", "/files", "200", fx.page([fx.file()])),
    ("get", "/collections/{collection_slug}", "200", fx.collection()),
    ("get", "/collections", "200", fx.page([fx.collection_list_item()])),
    ("get", "/search", "200", fx.search_response()),
    ("get", "/files/{file_id}", "404", fx.problem(404, "File not found")),
]


@pytest.mark.parametrize(("method", "path", "status", "body"), CASES, ids=[f"{c[0]} {c[1]} {c[2]}" for c in CASES])
def test_fixture_matches_the_official_schema(method: str, path: str, status: str, body: Any) -> None:
    jsonschema.validate(body, response_schema(method, path, status))


def test_the_schema_check_rejects_a_wrong_shape() -> None:
    broken = fx.prediction()
    del broken["urls"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, response_schema("get", "/predictions/{prediction_id}"))


def captured_body(route_method: str, url: str, call: Callable[[ReplicateClient], Awaitable[Any]], reply: Any) -> Any:
    async def main() -> None:
        async with ReplicateClient("r8_spec", BASE) as client:
            await call(client)

    with respx.mock() as mock:
        route = mock.route(method=route_method, url=url).respond(201, json=reply)
        asyncio.run(main())
    return json.loads(route.calls.last.request.content)


REQUESTS: list[tuple[str, str, str, Callable[[ReplicateClient], Awaitable[Any]], Any]] = [
    (
        "post",
        "/models/{model_owner}/{model_name}/predictions",
        f"{BASE}/models/a/b/predictions",
        lambda c: c.predictions_create({"x": 1}, model="a/b", stream=True, webhook="https://h.test", wait=True),
        fx.prediction(),
    ),
    (
        "post",
        "/predictions",
        f"{BASE}/predictions",
        lambda c: c.predictions_create({"x": 1}, version=fx.VERSION_ID, webhook_events_filter=["completed"]),
        fx.prediction(),
    ),
    (
        "post",
        "/deployments/{deployment_owner}/{deployment_name}/predictions",
        f"{BASE}/deployments/a/b/predictions",
        lambda c: c.predictions_create({"x": 1}, deployment="a/b"),
        fx.prediction(),
    ),
    (
        "post",
        "/models/{model_owner}/{model_name}/versions/{version_id}/trainings",
        f"{BASE}/models/a/b/versions/v1/trainings",
        lambda c: c.trainings_create(
            "a", "b", "v1", destination="me/new", input={"steps": 3}, webhook="https://h.test"
        ),
        fx.training(),
    ),
    (
        "post",
        "/deployments",
        f"{BASE}/deployments",
        lambda c: c.deployments_create(
            name="d", model="a/b", version="v", hardware="cpu", min_instances=0, max_instances=1
        ),
        fx.deployment(),
    ),
    (
        "patch",
        "/deployments/{deployment_owner}/{deployment_name}",
        f"{BASE}/deployments/a/d",
        lambda c: c.deployments_update("a", "d", min_instances=1, hardware="gpu-t4"),
        fx.deployment(),
    ),
    (
        "post",
        "/models",
        f"{BASE}/models",
        lambda c: c.models_create("a", "b", visibility="public", hardware="cpu", github_url="https://github.com/a/b"),
        fx.model(),
    ),
    (
        "patch",
        "/models/{model_owner}/{model_name}",
        f"{BASE}/models/a/b",
        lambda c: c.models_update("a", "b", readme="# new"),
        fx.model(),
    ),
]


@pytest.mark.parametrize(("method", "path", "url", "call", "reply"), REQUESTS, ids=[f"{r[0]} {r[1]}" for r in REQUESTS])
def test_request_body_matches_the_official_schema(
    method: str, path: str, url: str, call: Callable[[ReplicateClient], Awaitable[Any]], reply: Any
) -> None:
    body = captured_body(method.upper(), url, call, reply)
    jsonschema.validate(body, request_schema(method, path))


def test_every_operation_of_the_spec_has_a_client_method() -> None:
    ids = {
        op["operationId"].replace(".", "_")
        for ops in spec()["paths"].values()
        for op in ops.values()
        if isinstance(op, dict) and "operationId" in op
    }
    ids = {"models_versions_get" if i == "models_versions_get" else i for i in ids}
    missing = sorted(i for i in ids if not callable(getattr(ReplicateClient, i, None)))
    # deployments' and models' prediction endpoints are reached through predictions_create
    assert missing == ["deployments_predictions_create", "models_predictions_create"]
