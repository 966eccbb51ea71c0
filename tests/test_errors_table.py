"""SPEC 8, as one table: every bad input or failure a user meets, end to end.

Each row runs a statement through the real executor, the real client and a mocked
API (respx), and checks the exact shape of what the user sees: `error: …` plus at
most one hint line, no traceback, the exit code (2: nothing was sent; 1: the API or
the network failed), and which requests went out — none that create anything when
the input was bad.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import api_fixtures as fx
import httpx
import pytest
from rsh import rsh

from rshell.client.api import ReplicateClient
from rshell.session.state import Session

BASE = fx.BASE
TOKEN = "r8_fake-tabletokentabletokentabletoken"
MODEL = "stability-ai/sdxl"
PROBLEM = {"content-type": "application/problem+json"}


@dataclass
class Row:
    line: str
    code: int
    message: str  # must appear in the first line, after "error: "
    hint: str | None = None  # must appear in the second line
    sent: list[str] = field(default_factory=list)  # "METHOD /path" of every request expected


SCHEMA = f"GET /v1/models/{MODEL}"
ROWS = {
    "unknown command": Row("rnu stability-ai/sdxl prompt=x", 2, "unknown command 'rnu'", "did you mean 'run'?"),
    "unknown subcommand": Row(
        "model shwo stability-ai/sdxl", 2, "unknown model subcommand 'shwo'", "did you mean 'show'?"
    ),
    "unknown flag": Row(
        "run stability-ai/sdxl prompt=x --stram",
        2,
        "unknown flag '--stram' for `prediction create`",
        "did you mean '--stream'?",
    ),
    "unknown input key": Row(
        "run stability-ai/sdxl promt=x", 2, "unknown input 'promt' for this model", "did you mean 'prompt'?", [SCHEMA]
    ),
    "wrong type": Row(
        "run stability-ai/sdxl prompt=x width=wide", 2, "input 'width' must be an integer, got 'wide'", None, [SCHEMA]
    ),
    "above maximum": Row(
        "run stability-ai/sdxl prompt=x width=4096", 2, "input 'width' must be <= 2048, got 4096", None, [SCHEMA]
    ),
    "below minimum": Row(
        "run stability-ai/sdxl prompt=x num_outputs=0", 2, "input 'num_outputs' must be >= 1, got 0", None, [SCHEMA]
    ),
    "not in enum": Row(
        "run stability-ai/sdxl prompt=x scheduler=FAST", 2, "input 'scheduler' must be one of:", None, [SCHEMA]
    ),
    "missing required": Row(
        "run stability-ai/sdxl width=512", 2, "missing required input 'prompt'", "prompt", [SCHEMA]
    ),
    "malformed key=value": Row(
        "run stability-ai/sdxl justtext", 2, "expected key=value, got 'justtext'", "prompt='a cat'"
    ),
    "empty key": Row("run stability-ai/sdxl =x", 2, "expected key=value, got '=x'"),
    "unclosed quote": Row("run stability-ai/sdxl prompt='a cat", 2, "(column 30)", "^"),
    "unclosed template": Row("run stability-ai/sdxl prompt={{img.output", 2, "{{"),
    "undefined variable": Row(
        "run stability-ai/sdxl prompt={{imgg.output[0]}}", 2, "undefined variable 'imgg'", "did you mean 'img'?"
    ),
    "bad path index": Row(
        "run stability-ai/sdxl image={{img.output[3]}}", 2, "bad path img.output[3]: index 3 out of range"
    ),
    "bad path key": Row("run stability-ai/sdxl image={{img.outptu}}", 2, "bad path img.outptu: no key 'outptu'"),
    "nothing piped": Row("run stability-ai/sdxl image={{.output[0]}}", 2, "nothing was piped in"),
    # a path is checked before any request, the schema's read included (rshell/precheck.py)
    "missing @file": Row("run stability-ai/sdxl prompt=x image=@/no/such/file.png", 2, "/no/such/file.png", None),
    "@directory": Row("run stability-ai/sdxl prompt=x image=@/tmp", 2, "/tmp", None),
    "missing argument": Row("prediction show", 2, "`prediction show` needs <id>", "usage: prediction show <id>"),
    "bad flag value": Row(
        "deployments update alice/d --max-instances lots", 2, "--max-instances needs an integer, got 'lots'"
    ),
}


def run(line: str, *, client_factory=None, session: Session | None = None) -> tuple[int, str]:
    """The exit code and stderr of `line` run through `rsh` against the shared respx API."""
    ran = rsh(line, session=session, api=(BASE, TOKEN), json_mode=False, client_factory=client_factory)
    return ran.code, ran.stderr


def assert_shape(stderr: str, row: Row) -> None:
    lines = stderr.rstrip("\n").split("\n")
    errors = [i for i, line in enumerate(lines) if line.startswith("error: ")]
    assert len(errors) == 1, stderr  # progress may come first; one error, at the end
    lines = lines[errors[0] :]
    assert row.message in lines[0], stderr
    if row.hint is not None:
        assert row.hint in "\n".join(lines[1:]), stderr
    assert "Traceback" not in stderr and TOKEN not in stderr
    # one line and a hint; a parse error also shows the line and its caret
    assert len(lines) <= (3 if "^" in stderr else 2), stderr


@pytest.mark.parametrize("name", list(ROWS))
def test_bad_input_is_refused_before_anything_is_created(api, name: str) -> None:
    """Only the reads a row expects are answered: any other request (a create) is not
    mocked, so it fails the run instead of passing unseen."""
    row = ROWS[name]
    session = Session()
    session.bind("img", fx.prediction("succeeded", output=["https://x/a.png", "https://x/b.png"]))
    if SCHEMA in row.sent:
        api.get(f"/models/{MODEL}").respond(200, json=fx.model(is_official=True))
    code, stderr = run(row.line, session=session)
    sent = [f"{c.request.method} {c.request.url.path}" for c in api.calls]
    assert code == row.code == 2
    assert_shape(stderr, row)
    assert sent == row.sent


def test_unreadable_file_is_refused_before_upload(api, tmp_path: Path, monkeypatch) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG")
    real_open = Path.open

    def refuse(self: Path, *args, **kwargs):  # root can read anything; refuse this one
        if self == secret:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    code, stderr = run(f"run {MODEL} prompt=x image=@{secret}")
    assert [c.request.method for c in api.calls] == []  # not even the schema was read
    assert code == 2 and "secret.png" in stderr and "Traceback" not in stderr


def test_no_token_says_how_to_set_one(api) -> None:
    from rshell.errors import AuthError

    def no_token() -> ReplicateClient:
        raise AuthError("no API token: set REPLICATE_API_TOKEN or run `rshell auth login`", "or: rshell --local")

    code, stderr = run(f"run {MODEL} prompt=x", client_factory=no_token)
    assert not api.calls
    assert code == 1
    assert_shape(stderr, Row("", 1, "no API token", "rshell --local"))


API_FAILURES = {
    401: ("authentication failed", "REPLICATE_API_TOKEN"),
    404: ("not found", None),
    422: ("Invalid input: width", None),
    429: ("Too many requests", None),
    500: ("Internal server error", None),
    503: ("Service unavailable", None),
}


@pytest.mark.parametrize("status", list(API_FAILURES))
def test_api_failures_exit_1_with_the_problem_detail(api, status: int) -> None:
    message, hint = API_FAILURES[status]
    detail = {
        401: "Invalid token.",
        404: "Not found.",
        422: "Invalid input: width",
        429: "Too many requests",
        500: "Internal server error",
        503: "Service unavailable",
    }[status]
    api.get(f"/models/{MODEL}").respond(200, json=fx.model(is_official=True))
    api.post(f"/models/{MODEL}/predictions").respond(
        status, json=fx.problem(status, detail), headers={**PROBLEM, "Retry-After": "0"}
    )
    code, stderr = run(f"run {MODEL} prompt=x")
    posts = [c for c in api.calls if c.request.method == "POST"]
    assert code == 1
    assert_shape(stderr, Row("", 1, message if status != 401 else "", hint))
    assert message.lower() in stderr.lower()
    assert len(posts) == 1  # a create is never repeated for 5xx (429 retries are off here: max_retries=0)


def test_network_down_exits_1(api) -> None:
    api.get(f"/models/{MODEL}").mock(side_effect=httpx.ConnectError("Connection refused"))
    code, stderr = run(f"run {MODEL} prompt=x")
    assert code == 1
    assert_shape(stderr, Row("", 1, "cannot reach api.replicate.com"))


def test_a_terminated_stream_resumes_then_polls_and_fails_cleanly_when_the_network_goes(api) -> None:
    llm = fx.model(llm=True, is_official=True)
    owner, name = llm["owner"], llm["name"]
    started = fx.prediction("starting", model=f"{owner}/{name}")
    broken = fx.sse_body([("output", "Once")])  # no `done`: the connection just ends
    api.get(f"/models/{owner}/{name}").respond(200, json=llm)
    api.post(f"/models/{owner}/{name}/predictions").respond(201, json=started)
    stream = api.get(started["urls"]["stream"]).respond(
        200, content=broken, headers={"content-type": "text/event-stream"}
    )
    api.get(f"/predictions/{fx.PREDICTION_ID}").mock(side_effect=httpx.ConnectError("Connection reset"))
    code, stderr = run(f"stream {owner}/{name} prompt=x")
    assert stream.call_count == 2  # opened, then resumed once with Last-Event-ID
    assert stream.calls.last.request.headers.get("Last-Event-ID") == "1"
    assert code == 1
    assert_shape(stderr, Row("", 1, "cannot reach"))
