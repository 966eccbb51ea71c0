"""Deployments: a name bound to a model version and hardware, changed by releases.

Each create or update appends a release with the next number; `current_release` is
the last. Predictions through a deployment run its current release's version.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from rshell import writes
from rshell.sandbox import ids, render
from rshell.sandbox.catalog import HARDWARE_SKUS, OWNER
from rshell.sandbox.pagination import Listed, page
from rshell.sandbox.problems import Problem, invalid, not_found
from rshell.sandbox.web import empty, expect_string, json_object, param, reply, sandbox

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,139}$")
LIMITS = {"min_instances": (0, 5), "max_instances": (0, 20)}
CONFIG = ("hardware", "min_instances", "max_instances")


def _key(request: Request) -> str:
    return f"{param(request, 'deployment_owner')}/{param(request, 'deployment_name')}"


def _instances(body: dict[str, Any], field: str) -> int:
    value = body.get(field)
    low, high = LIMITS[field]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(f"{field}: must be an integer from {low} to {high}")
    return value


def _configuration(body: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The release configuration: `base` with the body's changes, checked."""
    config = dict(base or {})
    if "hardware" in body or base is None:
        hardware = expect_string(body, "hardware")
        if hardware not in HARDWARE_SKUS:
            raise invalid(f"hardware: unknown SKU {hardware} (see GET /v1/hardware)")
        config["hardware"] = hardware
    for field in LIMITS:
        if field in body or base is None:
            config[field] = _instances(body, field)
    if config["min_instances"] > config["max_instances"]:
        raise invalid("min_instances: cannot be more than max_instances")
    return config


async def deployments_list(request: Request) -> JSONResponse:
    found = sorted(sandbox(request).store.values("deployments"), key=_newest, reverse=True)
    return reply(page(request, Listed(found, _newest, descending=True), render.deployment_view))


def _newest(record: dict[str, Any]) -> tuple[str, str]:
    return (record["created_at"], record["name"])


async def deployments_create(request: Request) -> JSONResponse:
    body = await json_object(request)
    reason = writes.problem("deployments.create", body)
    if reason:
        raise invalid(reason)
    name = expect_string(body, "name") or ""
    model = expect_string(body, "model") or ""
    version_id = expect_string(body, "version") or ""
    if not NAME.match(name):
        raise invalid("name: use lowercase letters, digits, dashes, underscores and dots")
    config = _configuration(body)
    box = sandbox(request)
    owner, _, model_name = model.partition("/")
    if box.is_official(model):
        raise invalid(f"model {model}: an official model runs by name and cannot be deployed")
    box.listed_version(owner, model_name, version_id)
    key = f"{OWNER}/{name}"
    with box.store.lock:
        if box.store.get("deployments", key) is not None:
            raise Problem(409, f"deployment {key} already exists")
        created = ids.timestamp()
        record = {
            "owner": OWNER,
            "name": name,
            "created_at": created,
            "releases": [render.release(1, model, version_id, config, created)],
        }
        box.store.put("deployments", key, record)
    return reply(render.deployment_view(record))


async def deployments_get(request: Request) -> JSONResponse:
    record = sandbox(request).store.snapshot("deployments", _key(request))
    if record is None:
        raise not_found("deployment", _key(request))
    return reply(render.deployment_view(record))


async def deployments_update(request: Request) -> JSONResponse:
    body = await json_object(request)
    reason = writes.problem("deployments.update", body, partial=True)
    if reason:
        raise invalid(reason)
    body = writes.known("deployments.update", body)  # other fields are allowed, and ignored
    if not body:
        raise invalid("nothing to update: give version, hardware, min_instances or max_instances")
    box, key = sandbox(request), _key(request)
    with box.store.edit("deployments", key) as record:
        if record is None:
            raise not_found("deployment", key)
        current = record["releases"][-1]
        version_id = expect_string(body, "version", required=False) or current["version"]
        box.version(current["model"], version_id)
        config = _configuration(body, current["configuration"])
        record["releases"].append(
            render.release(current["number"] + 1, current["model"], version_id, config, ids.timestamp())
        )
        shown = render.deployment_view(record)
    return reply(shown)


async def deployments_delete(request: Request) -> Response:
    box, key = sandbox(request), _key(request)
    if box.store.delete("deployments", key) is None:
        raise not_found("deployment", key)
    return empty(204)
