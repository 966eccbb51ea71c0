"""Every line of the official Go CLI works verbatim, with its meaning (issue 11).

`tests/data/gocli_lines.json` is the table: lines built from github.com/replicate/cli
(the cobra definitions in internal/cmd/**: Use, Aliases, flags and their short
names, Examples; and the README's examples), each with the request the Go CLI sends
for it. Every line runs through the real statement path (`Executor.run_text`:
aliases, catalog, argument parser, handler) over a respx-mocked API and must send
that request and succeed.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path
from typing import Any

import api_fixtures as fx
import httpx
import pytest
import respx

from rshell.client.api import ReplicateClient
from rshell.executor import Executor
from rshell.rendering.output import Output
from rshell.session.state import Session

BASE = fx.BASE
TOKEN = "r8_fake-goclitabletoken"
TABLE = json.loads((Path(__file__).parent / "data" / "gocli_lines.json").read_text())["lines"]
PLACEHOLDERS = {
    "$VERSION": fx.VERSION_ID,
    "$FILE_URL": fx.file()["urls"]["get"],
    "$PREDICTION": fx.PREDICTION_ID,
    "$TRAINING": fx.TRAINING_ID,
}


def fill(value: Any) -> Any:
    """The table's placeholders replaced, in strings at any depth."""
    if isinstance(value, str):
        for key, text in PLACEHOLDERS.items():
            value = value.replace(key, text)
        return value
    if isinstance(value, dict):
        return {k: fill(v) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v) for v in value]
    return value


def _url(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(BASE) + pattern + r"(\?.*)?$")


def _model(request: httpx.Request) -> httpx.Response:
    """The model named in the path: the llama with a text iterator's schema, the
    upscaler with none (its `image` then goes as given), any other with an image
    model's (prompt, width, …; no trainer inputs, so a training's inputs go
    unvalidated, as the Go CLI sends them)."""
    owner, name = request.url.path.split("/")[3:5]
    if f"{owner}/{name}" == "nightmareai/real-esrgan":
        return httpx.Response(200, json=fx.model(owner, name, latest_version=fx.version(openapi_schema=None)))
    return httpx.Response(200, json=fx.model(owner, name, llm="llama" in name))


def _created_model(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    return httpx.Response(201, json=fx.model(body["owner"], body["name"], visibility=body["visibility"]))


def mock_api(router: respx.MockRouter) -> None:
    """Every endpoint the table's lines reach, answering with the spec's shapes."""
    routes: list[tuple[str, str, Any]] = [
        ("GET", "/account", httpx.Response(200, json=fx.account())),
        ("GET", "/hardware", httpx.Response(200, json=fx.hardware_list())),
        ("GET", "/models", httpx.Response(200, json=fx.page([fx.model()]))),
        ("POST", "/models", _created_model),
        ("GET", "/models/[^/]+/[^/]+", _model),
        ("GET", "/models/[^/]+/[^/]+/versions/[^/]+", httpx.Response(200, json=fx.version())),
        ("POST", "/models/[^/]+/[^/]+/predictions", httpx.Response(201, json=fx.prediction())),
        ("POST", "/models/[^/]+/[^/]+/versions/[^/]+/trainings", httpx.Response(201, json=fx.training("starting"))),
        ("POST", "/predictions", httpx.Response(201, json=fx.prediction())),
        ("GET", "/predictions", httpx.Response(200, json=fx.page([fx.prediction()]))),
        ("GET", "/predictions/[^/]+", httpx.Response(200, json=fx.prediction())),
        ("GET", "/trainings", httpx.Response(200, json=fx.page([fx.training()]))),
        ("GET", "/trainings/[^/]+", httpx.Response(200, json=fx.training())),
        ("POST", "/files", httpx.Response(201, json=fx.file())),
        ("GET", "/deployments", httpx.Response(200, json=fx.page([fx.deployment()]))),
        ("POST", "/deployments", httpx.Response(201, json=fx.deployment())),
        ("GET", "/deployments/[^/]+/[^/]+", httpx.Response(200, json=fx.deployment())),
        ("PATCH", "/deployments/[^/]+/[^/]+", httpx.Response(200, json=fx.deployment())),
    ]
    for method, pattern, answer in routes:
        route = router.route(method=method, url__regex=_url(pattern))
        if callable(answer):
            route.mock(side_effect=answer)
        else:
            route.mock(return_value=answer)
    png = b"\x89PNG\r\n\x1a\n" + bytes(16)
    router.get(url__regex=r"^https://replicate\.delivery/").respond(
        200, content=png, headers={"content-type": "image/png"}
    )


class Line:
    """One statement run by a real executor over captured output and the mocked API."""

    def __init__(self) -> None:
        self.stdout, self.stderr = io.StringIO(), io.StringIO()
        self.executor = Executor(
            Session(),
            Output(self.stdout, self.stderr),
            lambda: ReplicateClient(TOKEN, BASE, max_retries=0),
            base_url=BASE,
        )

    def __call__(self, text: str) -> int:
        async def go() -> int:
            try:
                return await self.executor.run_text(text)
            finally:
                await self.executor.aclose()

        return asyncio.run(go())


@pytest.fixture
def api(monkeypatch, tmp_path: Path):
    from rshell.commands import running

    monkeypatch.setattr(running, "_has_browser", lambda: False)  # --web prints the page it would open
    monkeypatch.chdir(tmp_path)  # --save and scaffold write here
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        mock_api(router)
        yield router


@pytest.mark.parametrize("row", TABLE, ids=[row["line"][10:70] for row in TABLE])
def test_a_go_cli_line_sends_the_go_cli_request(api, tmp_path: Path, row: dict) -> None:
    for name in row.get("files", []):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"PK\x05\x06" + bytes(18))
    run = Line()
    code = run(fill(row["line"]))
    assert code == 0, run.stderr.getvalue()
    want = fill(row["request"])
    sent = [call.request for call in api.calls]
    changes = [r for r in sent if r.method != "GET" and r.url.path != "/v1/files"]
    if want["method"] == "GET":
        assert changes == [], "a read-only Go CLI line must change nothing"
        assert any(r.method == "GET" and r.url.path == "/v1" + want["path"] for r in sent), [str(r.url) for r in sent]
    else:
        assert changes, "nothing was created or changed"
        last = changes[-1]
        assert (last.method, last.url.path) == (want["method"], "/v1" + want["path"])
        body = json.loads(last.content)
        assert {key: body.get(key) for key in want.get("body", {})} == want.get("body", {})
    if "web" in row:
        assert fill(row["web"]) in run.stderr.getvalue()


# --wait[=SECONDS], --no-stream and the flags that contradict each other ----------------


def _create(api: respx.MockRouter) -> list[httpx.Request]:
    return [c.request for c in api.calls if c.request.method == "POST"]


@pytest.mark.parametrize(
    "flags, prefer",
    [
        ("", "wait"),
        ("--wait", "wait"),
        ("-w", "wait"),
        ("--wait=30", "wait=30"),
        ("--wait 30", "wait=30"),
        ("-w=5", "wait=5"),
        ("-w 60", "wait=60"),
        ("-w1", "wait=1"),
    ],
)
def test_wait_seconds_asks_for_that_sync_window(api, flags: str, prefer: str) -> None:
    run = Line()
    assert run(f"run stability-ai/sdxl prompt=fox {flags}") == 0, run.stderr.getvalue()
    (created,) = _create(api)
    assert created.headers["Prefer"] == prefer


def test_no_wait_asks_for_no_sync_window(api) -> None:
    assert Line()("run stability-ai/sdxl prompt=fox --no-wait") == 0
    assert "Prefer" not in _create(api)[0].headers


@pytest.mark.parametrize(
    "line, message",
    [
        ("run stability-ai/sdxl prompt=x --wait=0", "--wait takes 1 to 60 seconds, got 0"),
        ("run stability-ai/sdxl prompt=x -w 61", "-w takes 1 to 60 seconds, got 61"),
        ("run stability-ai/sdxl prompt=x --wait=soon", "--wait takes a number of seconds from 1 to 60, got 'soon'"),
        ("run stability-ai/sdxl prompt=x --wait --no-wait", "--wait and --no-wait cannot be used together"),
        ("run stability-ai/sdxl prompt=x --stream --no-stream", "--stream and --no-stream cannot be used together"),
        ("train stability-ai/sdxl -d alice/dest --wait=30", "--wait takes no value (only true or false), got '30'"),
        ("run stability-ai/sdxl prompt=x --stream=yes", "--stream takes no value (only true or false), got 'yes'"),
        ("run stability-ai/sdxl prompt=x -q", "unknown flag '-q' for `prediction create`"),
        ("train stability-ai/sdxl -d", "-d needs a value"),
    ],
)
def test_bad_wait_and_contradicting_flags_are_usage_errors_before_any_request(api, line: str, message: str) -> None:
    run = Line()
    assert run(line) == 2
    assert message in run.stderr.getvalue()
    assert api.calls.call_count == 0


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    "flags, streams",
    [("", True), ("--no-stream", False), ("--wait", False), ("--stream --wait", True), ("--stream=false", True)],
)
def test_a_text_model_on_a_terminal_streams_unless_told_not_to(api, flags: str, streams: bool) -> None:
    run = Line()
    run.executor.out = Output(_Terminal(), io.StringIO())
    assert run(f"run meta/llama-2-70b-chat prompt=hi {flags}") == 0
    body = json.loads(_create(api)[0].content)
    assert body.get("stream", False) is streams
