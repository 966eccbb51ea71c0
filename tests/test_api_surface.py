"""Every operation of the spec is reachable from a command line.

The table maps each operationId of `rshell/openapi.json` to a line a user types; the
line runs through the catalog, the parser and its handler against a respx-mocked API
that answers every path with a body shaped like the spec's, and the test asserts
the operation's method and path were called. A new operation in the spec, or a
command that stops reaching one, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import api_fixtures as fx
import httpx
import pytest
import respx
from rsh import BASE, mocked, rsh

from rshell import openapi

V = fx.VERSION_ID
P = fx.PREDICTION_ID
T = fx.TRAINING_ID
F = fx.FILE_ID

LINES: dict[str, str] = {
    "account.get": "account current",
    "collections.list": "collections list",
    "collections.get": "collections show text-to-image",
    "deployments.list": "deployments list",
    "deployments.create": f"deployments create my-app --model stability-ai/sdxl:{V}",
    "deployments.delete": "deployments delete alice/my-app",
    "deployments.get": "deployments show alice/my-app",
    "deployments.update": "deployments update alice/my-app --max-instances 2",
    "deployments.predictions.create": "run --deployment alice/my-app prompt=hi",
    "files.list": "files list",
    "files.create": "files upload {tmp}/photo.png --metadata '{\"k\": 1}'",
    "files.delete": f"files delete {F}",
    "files.get": f"files show {F}",
    "files.download": f"files download {F} {{tmp}}/out.png",
    "hardware.list": "hardware list",
    "models.list": "model list --sort-by model_created_at",
    "models.create": "model create alice/new-model --hardware cpu",
    "models.search": "model search fox",
    "models.delete": "model delete alice/old-model",
    "models.get": "model show stability-ai/sdxl",
    "models.update": "model update alice/my-model --readme '# Hello'",
    "models.examples.list": "model examples stability-ai/sdxl",
    "models.predictions.create": "run stability-ai/sdxl prompt=hi",
    "models.readme.get": "model readme stability-ai/sdxl",
    "models.versions.list": "model versions stability-ai/sdxl",
    "models.versions.delete": f"model versions delete alice/my-model:{V}",
    "models.versions.get": f"model schema stability-ai/sdxl:{V}",
    "trainings.create": f"train stability-ai/sdxl:{V} --destination alice/my-model",
    "predictions.list": "prediction list --since 2025-01-01",
    "predictions.create": f"run stability-ai/sdxl:{V} prompt=hi",
    "predictions.get": f"prediction show {P}",
    "predictions.cancel": f"prediction cancel {P}",
    "search": "search fox",
    "trainings.list": "training list",
    "trainings.get": f"training show {T}",
    "trainings.cancel": f"training cancel {T}",
    "webhooks.default.secret.get": "webhooks secret",
}


def _answers() -> dict[str, tuple[int, Any]]:
    """A spec-shaped answer for every operation (status, JSON or text)."""
    official = fx.model(is_official=True)
    return {
        "account.get": (200, fx.account()),
        "collections.list": (200, fx.page([fx.collection_list_item()])),
        "collections.get": (200, fx.collection()),
        "deployments.list": (200, fx.page([fx.deployment()])),
        "deployments.create": (200, fx.deployment(name="my-app")),
        "deployments.delete": (204, None),
        "deployments.get": (200, fx.deployment(name="my-app")),
        "deployments.update": (200, fx.deployment(name="my-app")),
        "deployments.predictions.create": (201, fx.prediction()),
        "files.list": (200, fx.page([fx.file()])),
        "files.create": (201, fx.file()),
        "files.delete": (204, None),
        "files.get": (200, fx.file()),
        "files.download": (200, b"\x89PNG"),
        "hardware.list": (200, fx.hardware_list()),
        "models.list": (200, fx.page([official])),
        "models.create": (201, fx.model("alice", "new-model")),
        "models.search": (200, fx.page([official])),
        "models.delete": (204, None),
        "models.get": (200, official),
        "models.update": (200, fx.model("alice", "my-model")),
        "models.examples.list": (200, fx.page([fx.prediction()])),
        "models.predictions.create": (201, fx.prediction()),
        "models.readme.get": (200, "# SDXL\n"),
        "models.versions.list": (200, fx.page([fx.version()])),
        "models.versions.delete": (202, None),
        "models.versions.get": (200, fx.version()),
        "trainings.create": (201, fx.training("starting")),
        "predictions.list": (200, fx.page([fx.prediction()])),
        "predictions.create": (201, fx.prediction()),
        "predictions.get": (200, fx.prediction()),
        "predictions.cancel": (200, fx.prediction("canceled")),
        "search": (200, fx.search_response()),
        "trainings.list": (200, fx.page([fx.training()])),
        "trainings.get": (200, fx.training()),
        "trainings.cancel": (200, fx.training("canceled")),
        "webhooks.default.secret.get": (200, {"key": "whsec_x"}),
    }


def _pattern(template: str) -> str:
    """The operation's URL as a regex: each {param} one path segment, any query."""
    return "^" + re.escape(BASE) + re.sub(r"\\\{[^}]+\\\}", "[^/?]+", re.escape(template)) + r"(\?.*)?$"


def _respond(status: int, body: Any) -> httpx.Response:
    if body is None:
        return httpx.Response(status)
    if isinstance(body, bytes):
        return httpx.Response(status, content=body, headers={"content-type": "image/png"})
    if isinstance(body, str):
        return httpx.Response(status, text=body, headers={"content-type": "text/plain"})
    return httpx.Response(status, json=body)


@pytest.fixture
def every_operation():
    """Every operation's method and path answered; routes named by operationId. Not
    the shared `api` fixture: a test calls one of them, so not all are called."""
    answers = _answers()
    with respx.mock(assert_all_called=False) as router:
        # literal paths first, so /models/{o}/{n}/versions never falls to a shorter pattern
        ordered = sorted(openapi.operations().items(), key=lambda kv: kv[1][1].count("{"))
        for operation, (method, template) in ordered:
            status, body = answers[operation]
            router.route(method=method, url__regex=_pattern(template), name=operation).mock(
                return_value=_respond(status, body)
            )
        yield router


def test_every_operation_has_a_command_line() -> None:
    assert set(LINES) == set(openapi.operations())


@pytest.mark.parametrize("operation", sorted(openapi.operations()))
def test_the_line_reaches_its_operation(every_operation, operation: str, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "photo.png").write_bytes(b"\x89PNG")
    monkeypatch.chdir(tmp_path)
    assert mocked(LINES[operation].replace("{tmp}", str(tmp_path))).code == 0
    method, template = openapi.operations()[operation]
    route = every_operation.routes[operation]
    assert route.called, f"{LINES[operation]!r} did not send {method} {template}"
    assert route.calls.last.request.method == method


# against the live sandbox: the same declaration on both sides ------------------------------


def test_model_write_fields_end_to_end_against_the_sandbox(sandbox, tmp_path) -> None:
    """create with --cover-image-url, update --readme @FILE and --weights-url, readme
    shows it; a field the spec's update body lacks is allowed there (the schema does not
    forbid extra fields) and ignored, as the real API does."""
    live = (sandbox.url, sandbox.token)
    assert rsh("model create sandbox/writes --cover-image-url https://x/c.png --description first", api=live).code == 0
    (tmp_path / "README.md").write_text("# Writes\n\nHello **there**.\n")
    updated = rsh(f"model update sandbox/writes --readme @{tmp_path}/README.md --weights-url https://w/x.tar", api=live)
    assert updated.data["cover_image_url"] == "https://x/c.png"
    shown = rsh("model readme sandbox/writes", api=live, json_mode=False)
    assert shown.data == "# Writes\n\nHello **there**.\n"
    assert shown.stdout == "Writes\n======\n\nHello there.\n"
    ignored = httpx.patch(
        f"{sandbox.url}/models/sandbox/writes",
        json={"cover_image_url": "https://x/d.png"},
        headers={"Authorization": f"Bearer {sandbox.token}"},
    )
    assert ignored.status_code == 200 and ignored.json()["cover_image_url"] == "https://x/c.png"


def test_paging_end_to_end_against_the_sandbox(sandbox, monkeypatch) -> None:
    """--limit and --all over the sandbox's real cursors, and --cursor from the hint."""
    from rshell.sandbox import pagination

    monkeypatch.setattr(pagination, "PAGE_SIZE", 2)  # the sandbox runs in this process
    live = (sandbox.url, sandbox.token)
    every = rsh("model list --all", api=live).data["results"]
    assert len(every) >= 4
    first = rsh("model list", api=live, json_mode=False)
    hint = first.stdout.splitlines()[-1]
    assert hint.startswith("(next page: model list --cursor ")
    cursor = hint.removeprefix("(next page: model list --cursor ").removesuffix(")")
    second = rsh(f"model list --cursor {cursor}", api=live)
    names = [m["name"] for m in first.data["results"] + second.data["results"]]
    assert names == [m["name"] for m in every[:4]]
    assert len(rsh("model list --limit 3", api=live).data["results"]) == 3
