"""The official Go CLI's conversation, replayed against the live sandbox (issue 20).

`tests/data/gocli_conversation.json` lists the exact requests the Go CLI sends for its
commands (method, path, JSON body or multipart form, headers: no `Prefer`), in order.
Each is sent as it is with plain httpx; its status must be the real API's and its
body fit the official spec (checked here and by the `sandbox` fixture's observer).
Where the Go CLI's behaviour depends on an answer (streaming when `urls.stream` is
there, falling back to `POST /v1/predictions` on a 404), the step says what it needs.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
from openapi_check import hook
from waits import wait_finished

CONVERSATION = Path(__file__).resolve().parents[1] / "data" / "gocli_conversation.json"


def _dig(value: Any, dotted: str) -> Any:
    """The value at `a.b.0.c`; KeyError naming the path when it is not there."""
    for part in dotted.split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise KeyError(dotted)
    return value


def _has(value: Any, dotted: str) -> bool:
    try:
        _dig(value, dotted)
    except KeyError:
        return False
    return True


def _fill(value: Any, saved: dict[str, str]) -> Any:
    """`$NAME` replaced by what an earlier answer gave, anywhere in a step."""
    if isinstance(value, str):
        for name in sorted(saved, key=len, reverse=True):  # $PIXELS_X before $PIXELS
            value = value.replace(f"${name}", saved[name])
        assert "$" not in value, f"nothing saved for {value}"
        return value
    if isinstance(value, dict):
        return {k: _fill(v, saved) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, saved) for v in value]
    return value


def _send(client: httpx.Client, step: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    url = step.get("url") or step["path"]
    sent = {**headers, **step.get("headers", {})}
    if "multipart" in step:
        form = dict(step["multipart"])
        content = form.pop("content")
        files = {"content": (content["filename"], base64.b64decode(content["base64"]), content["content_type"])}
        return client.request(step["method"], url, headers=sent, data=form, files=files)
    if "body" in step:
        sent["Content-Type"] = "application/json"
        return client.request(step["method"], url, headers=sent, content=json.dumps(step["body"]))
    return client.request(step["method"], url, headers=sent)


def _events(text: str) -> list[str]:
    return [line.removeprefix("event: ") for line in text.splitlines() if line.startswith("event: ")]


def test_the_go_clis_conversation_gets_the_real_apis_answers(sandbox: Any) -> None:
    recorded = json.loads(CONVERSATION.read_text())
    saved: dict[str, str] = {"TOKEN": sandbox.token}
    answered: list[str] = []
    with httpx.Client(base_url=sandbox.root, timeout=60, event_hooks={"response": [hook]}) as client:
        for raw in recorded["steps"]:
            step = _fill(raw, saved)
            if "wait" in step:  # the Go CLI polls here; the replay waits on the run's end
                wait_finished(sandbox, step["wait"], step["id"])
                continue
            headers = _fill(recorded["headers"], saved)
            assert not any(k.lower() == "prefer" for k in {**headers, **step.get("headers", {})})
            response = _send(client, step, headers)
            where = f"{step['say']}: {step['method']} {step.get('path') or step['url']}"
            assert response.status_code == step["status"], f"{where} -> {response.status_code} {response.text[:300]}"
            answered.append(f"{step['method']} {response.request.url.path} {response.status_code}")
            if "events" in step:
                events = _events(response.text)
                assert all(e in events for e in step["events"]) and events[-1] == "done", (where, events)
                continue
            body = response.json()
            for dotted, expected in step.get("expect", {}).items():
                assert _dig(body, dotted) == expected, (where, dotted, body)
            for dotted in step.get("present", []):
                assert _has(body, dotted), (where, dotted, body)
            for dotted in step.get("absent", []):
                assert not _has(body, dotted), (where, dotted, body)
            for name, dotted in step.get("save", {}).items():
                saved[name] = str(_dig(body, dotted))
    assert len(answered) == sum(1 for s in recorded["steps"] if "wait" not in s)
