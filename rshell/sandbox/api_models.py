"""Models and versions: list, search, get, create, update, delete, readme, examples."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from rshell import writes
from rshell.sandbox import ids, render
from rshell.sandbox.catalog import HARDWARE_SKUS, OWNER, readme_for
from rshell.sandbox.core import caller_owns
from rshell.sandbox.pagination import Listed, page
from rshell.sandbox.problems import Problem, invalid, not_found
from rshell.sandbox.web import empty, expect_string, json_object, origin, param, reply, sandbox

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,139}$")
CREATE_FIELDS = writes.names("models.create")  # the spec's bodies, declared once in rshell/writes.py
UPDATE_FIELDS = writes.names("models.update")


def _model_key(request: Request) -> tuple[str, str]:
    return param(request, "model_owner"), param(request, "model_name")


async def models_list(request: Request) -> JSONResponse:
    sort_by = request.query_params.get("sort_by", "latest_version_created_at")
    direction = request.query_params.get("sort_direction", "desc")
    if sort_by not in ("model_created_at", "latest_version_created_at"):
        raise invalid("sort_by: must be model_created_at or latest_version_created_at")
    if direction not in ("asc", "desc"):
        raise invalid("sort_direction: must be asc or desc")
    box, here = sandbox(request), origin(request)
    descending = direction == "desc"
    keyed = sorted(
        ((render.model_sort_key(box, m, sort_by), m) for m in box.store.values("models")), reverse=descending
    )
    models = Listed(keyed, lambda pair: pair[0], descending=descending)
    return reply(page(request, models, lambda pair: render.model_view(box, pair[1], here)))


async def models_search(request: Request) -> JSONResponse:
    from rshell.sandbox.api_account import score
    from rshell.sandbox.edge import text_body

    query = (await text_body(request)).strip()
    if not query:
        raise Problem(400, "the request body must be the search text")
    box, here = sandbox(request), origin(request)
    hits = []
    for model in box.store.values("models", lambda m: m.get("visibility") == "public" or m["owner"] == OWNER):
        points = score(query, f"{model['owner']}/{model['name']}", model.get("description"))
        if points:
            hits.append((points, model))
    hits.sort(key=_hit_key)

    def view(hit: tuple[float, dict]) -> dict:
        shown = render.model_view(box, hit[1], here)
        shown["description"] = shown["description"] or ""  # the search schema has it non-null
        return shown

    return reply(page(request, Listed(hits, _hit_key), view))


def _hit_key(hit: tuple[float, dict]) -> tuple[float, str, str]:
    """Best match first, then by name."""
    return (-hit[0], hit[1]["owner"], hit[1]["name"])


async def models_get(request: Request) -> JSONResponse:
    owner, name = _model_key(request)
    box = sandbox(request)
    return reply(render.model_view(box, box.model(owner, name), origin(request)))


async def models_create(request: Request) -> JSONResponse:
    body = await json_object(request)
    reason = writes.problem("models.create", body)
    if reason:
        raise invalid(reason)
    owner = expect_string(body, "owner")
    name = expect_string(body, "name")
    visibility = expect_string(body, "visibility")
    hardware = expect_string(body, "hardware")
    for field in CREATE_FIELDS - {"owner", "name", "visibility", "hardware"}:
        expect_string(body, field, required=False)
    if not NAME.match(name or ""):
        raise invalid("name: use lowercase letters, digits, dashes, underscores and dots")
    if visibility not in ("public", "private"):
        raise invalid("visibility: must be public or private")
    if hardware not in HARDWARE_SKUS:
        raise invalid(f"hardware: unknown SKU {hardware} (see GET /v1/hardware)")
    if not caller_owns(owner or ""):
        raise Problem(403, f"you can only create models under your own account, {OWNER}")
    box = sandbox(request)
    key = f"{owner}/{name}"
    with box.store.lock:
        if box.store.get("models", key) is not None:
            raise Problem(409, f"model {key} already exists")
        record = {field: body.get(field) for field in CREATE_FIELDS}
        record.update(readme=None, weights_url=None, created_at=ids.timestamp(), builtin=False)
        box.store.put("models", key, record)
    return reply(render.model_view(box, record, origin(request)), 201)


async def models_update(request: Request) -> JSONResponse:
    owner, name = _model_key(request)
    body = await json_object(request)
    reason = writes.problem("models.update", body, partial=True)
    if reason:
        raise invalid(reason)
    box = sandbox(request)
    key = f"{owner}/{name}"
    box.model(owner, name)
    if not caller_owns(owner):
        raise Problem(403, f"you can only update your own models; {key} belongs to {owner}")
    with box.store.edit("models", key) as record:
        if record is None:  # deleted between the check above and the edit
            raise not_found("model", key)
        record.update(writes.known("models.update", body))  # other fields are allowed, and ignored
        shown = dict(record)
    return reply(render.model_view(box, shown, origin(request)))


async def models_delete(request: Request) -> Response:
    owner, name = _model_key(request)
    box = sandbox(request)
    key = f"{owner}/{name}"
    model = box.model(owner, name)
    if not caller_owns(owner):
        raise Problem(403, f"you can only delete your own models; {key} belongs to {owner}")
    if model.get("visibility") != "private":
        raise Problem(403, f"only private models can be deleted; {key} is public")
    if box.versions(key):
        raise Problem(409, f"model {key} still has versions; delete them first")
    box.store.delete("models", key)
    return empty(204)


async def models_readme(request: Request) -> PlainTextResponse:
    owner, name = _model_key(request)
    box = sandbox(request)
    model = box.model(owner, name)
    text = model.get("readme")
    if not text and model.get("builtin"):
        latest = box.latest_version(f"{owner}/{name}")
        text = readme_for(owner, name, model.get("description"), latest and latest.get("openapi_schema"))
    if not text:
        raise not_found("readme of model", f"{owner}/{name}")
    return PlainTextResponse(text)


async def models_examples(request: Request) -> JSONResponse:
    owner, name = _model_key(request)
    box, here = sandbox(request), origin(request)
    box.model(owner, name)
    found = render.examples(box, f"{owner}/{name}")
    return reply(page(request, found, lambda p: render.run_view("predictions", p, here)))


async def versions_list(request: Request) -> JSONResponse:
    owner, name = _model_key(request)
    found = Listed(sandbox(request).listed_versions(owner, name), render.version_key, descending=True)
    return reply(page(request, found, render.version_view))


async def versions_get(request: Request) -> JSONResponse:
    owner, name = _model_key(request)
    return reply(render.version_view(sandbox(request).listed_version(owner, name, param(request, "version_id"))))


async def versions_delete(request: Request) -> Response:
    owner, name = _model_key(request)
    version_id = param(request, "version_id")
    box = sandbox(request)
    key = f"{owner}/{name}"
    box.listed_version(owner, name, version_id)
    if not caller_owns(owner):
        raise Problem(403, f"you can only delete versions of your own models; {key} belongs to {owner}")
    used = [d for d in box.store.values("deployments") if d["releases"][-1]["version"] == version_id]
    if used:
        raise Problem(409, f"version {version_id} is used by deployment {used[0]['owner']}/{used[0]['name']}")
    box.store.delete("versions", f"{key}:{version_id}")
    return empty(202)
