"""Issue 23 item 3: `webhooks verify` decides as the official Python client's
`Webhooks.validate` does, and `webhooks listen` (a real receiver process) shows,
verifies, saves and forwards the deliveries the sandbox sends for
`run … --webhook http://127.0.0.1:N`. Every process is bounded in time and killed."""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rsh import rsh

from rshell.sandbox.webhooks import sign  # the sandbox's own signer, written apart from rshell/webhooks.py
from rshell.webhooks import Delivery, InvalidDelivery, check

ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
OTHER = "whsec_" + base64.b64encode(b"o" * 32).decode()
BODY = json.dumps({"id": "p1", "status": "succeeded", "output": "hi"})


def _signed(body: str = BODY, secret: str = SECRET, timestamp: int | None = None, wid: str = "msg_1") -> dict:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "webhook-id": wid,
        "webhook-timestamp": stamp,
        "webhook-signature": sign(secret, wid, stamp, body.encode()),
    }


def _official(headers: dict, body: str, secret: str, tolerance: int | None) -> bool:
    from replicate.webhook import Webhooks, WebhookSigningSecret, WebhookValidationError

    try:  # it returns None for a valid delivery and raises for any other
        Webhooks.validate(headers=headers, body=body, secret=WebhookSigningSecret(key=secret), tolerance=tolerance)
    except WebhookValidationError:
        return False
    return True


def _ours(headers: dict, body: str, secret: str, tolerance: int | None) -> bool:
    try:
        check(Delivery.of(headers, body.encode()), secret, tolerance)
    except InvalidDelivery:
        return False
    return True


CASES: dict[str, tuple[dict, str, str, int | None]] = {
    "signed": (_signed(), BODY, SECRET, 300),
    "no tolerance": (_signed(timestamp=1), BODY, SECRET, None),
    "body changed": (_signed(), BODY.replace("hi", "ho"), SECRET, 300),
    "other secret": (_signed(), BODY, OTHER, 300),
    "too old": (_signed(timestamp=int(time.time()) - 3600), BODY, SECRET, 300),
    "in the future": (_signed(timestamp=int(time.time()) + 3600), BODY, SECRET, 300),
    "id changed": ({**_signed(), "webhook-id": "msg_2"}, BODY, SECRET, 300),
    "two signatures, second good": (
        {**_signed(), "webhook-signature": "v1,AAAA " + _signed()["webhook-signature"]},
        BODY,
        SECRET,
        300,
    ),
    "no signature header": ({k: v for k, v in _signed().items() if k != "webhook-signature"}, BODY, SECRET, 300),
    "upper-case headers": ({k.upper(): v for k, v in _signed().items()}, BODY, SECRET, 300),
}


@pytest.mark.parametrize("case", list(CASES))
def test_check_agrees_with_the_official_python_client(case: str) -> None:
    headers, body, secret, tolerance = CASES[case]
    assert _ours(headers, body, secret, tolerance) == _official(headers, body, secret, tolerance)


def test_the_agreement_cases_include_both_verdicts() -> None:
    verdicts = {_official(*CASES[case]) for case in CASES}
    assert verdicts == {True, False}


def _saved(tmp_path: Path, headers: dict, body: str, name: str = "d.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"headers": headers, "body": body}))
    return path


def test_verify_a_saved_delivery_with_a_given_secret(tmp_path: Path) -> None:
    good = _saved(tmp_path, _signed(), BODY)
    ran = rsh(f"webhooks verify {good} --secret {SECRET}", json_mode=False)
    assert ran.code == 0, ran.stderr
    assert ran.stdout.split()[:4] == ["verified", "completed", "p1", "succeeded"]
    bad = _saved(tmp_path, _signed(), BODY.replace("hi", "ho"), "bad.json")
    refused = rsh(f"webhooks verify {bad} --secret {SECRET}")
    assert refused.code == 1
    assert refused.json["verified"] is False and "no signature matches" in refused.stderr
    old = _saved(tmp_path, _signed(timestamp=int(time.time()) - 600), BODY, "old.json")
    assert rsh(f"webhooks verify {old} --secret {SECRET}").code == 1
    assert rsh(f"webhooks verify {old} --secret {SECRET} --tolerance 3600").code == 0


def test_verify_reads_stdin_and_refuses_a_file_that_is_no_delivery(tmp_path: Path) -> None:
    import io

    from rshell.commands.context import Environment

    text = json.dumps({"headers": _signed(), "body": BODY})
    ran = rsh(f"webhooks verify --secret {SECRET}", env=Environment(stdin=io.StringIO(text)))
    assert ran.code == 0, ran.stderr
    junk = tmp_path / "junk.json"
    junk.write_text("[1, 2]")
    for line in (f"webhooks verify {junk} --secret {SECRET}", f"webhooks verify {tmp_path}/none.json --secret x"):
        refused = rsh(line)
        assert refused.code == 2, refused.stderr
        assert "Traceback" not in refused.stderr and len(refused.error.message.splitlines()) == 1


# the loop, end to end: a real listener process ------------------------------------------


class Listener:
    """`python -m rshell webhooks listen …` aimed at the sandbox; its stderr and stdout
    read by threads so a test waits on lines, never on the clock."""

    def __init__(self, sandbox: Any, home: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLICATE_", "XDG_", "RSHELL_"))}
        env.update(
            REPLICATE_BASE_URL=sandbox.url,
            REPLICATE_API_TOKEN=sandbox.token,
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / "config"),
            XDG_DATA_HOME=str(home / "data"),
            XDG_CACHE_HOME=str(home / "cache"),
            PYTHONPATH=str(ROOT),
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rshell", "webhooks", "listen", "--port", "0", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out: queue.Queue[str] = queue.Queue()
        self.err: queue.Queue[str] = queue.Queue()
        for stream, into in ((self.process.stdout, self.out), (self.process.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, into), daemon=True).start()
        self.port = self._port()

    @staticmethod
    def _pump(stream: Any, into: queue.Queue[str]) -> None:
        for line in stream:
            into.put(line)

    def _port(self) -> int:
        seen = []
        while True:
            line = self.err.get(timeout=60)
            seen.append(line)
            found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if found:
                return int(found[1])
            if len(seen) > 20:
                raise AssertionError("".join(seen))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def line(self) -> str:
        return self.out.get(timeout=90)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


@pytest.fixture
def listeners(sandbox: Any, tmp_path: Path) -> Iterator[Any]:
    started: list[Listener] = []

    def start(*args: str) -> Listener:
        listener = Listener(sandbox, tmp_path / f"home{len(started)}", *args)
        started.append(listener)
        return listener

    try:
        yield start
    finally:
        for listener in started:
            listener.stop()


def test_listen_shows_the_sandboxs_verified_deliveries_saves_and_forwards_them(
    sandbox: Any, listeners: Any, tmp_path: Path
) -> None:
    downstream = listeners("--count", "1")
    saved = tmp_path / "saved"
    listener = listeners("--count", "1", "--save", str(saved), "--forward", downstream.url)
    ran = rsh(
        f"run rshell/echo text=hi --webhook {listener.url} --webhook-events completed", api=(sandbox.url, sandbox.token)
    )
    assert ran.code == 0, ran.stderr
    run_id = ran.json["id"]
    line = listener.line()
    assert line.split() == ["verified", "completed", run_id, "succeeded"], line
    assert listener.process.wait(timeout=60) == 0  # --count 1: it ends by itself
    # the forwarded copy still verifies (headers and body unchanged) at the second receiver
    assert downstream.line().split() == ["verified", "completed", run_id, "succeeded"]
    assert downstream.process.wait(timeout=60) == 0
    # the saved delivery verifies with the secret fetched from the sandbox's API
    (path,) = saved.glob("*.json")
    checked = rsh(f"webhooks verify {path}", api=(sandbox.url, sandbox.token))
    assert checked.code == 0, checked.stderr
    assert checked.json == {**checked.json, "verified": True, "id": run_id, "event": "completed"}
    assert sandbox.token not in path.read_text()


def test_listen_marks_a_delivery_signed_with_another_secret_and_stops_on_ctrl_c(sandbox: Any, listeners: Any) -> None:
    import httpx

    listener = listeners("--secret", OTHER)
    ran = rsh(
        f"run rshell/echo text=x --webhook {listener.url} --webhook-events completed", api=(sandbox.url, sandbox.token)
    )
    assert ran.code == 0, ran.stderr
    line = listener.line()
    assert line.startswith("NOT VERIFIED  completed  " + ran.json["id"]), line
    forged = httpx.post(listener.url, content=BODY, headers=_signed(secret=SECRET), timeout=30)
    assert forged.status_code == 204
    assert listener.line().startswith("NOT VERIFIED  completed  p1")
    listener.process.send_signal(signal.SIGINT)
    assert listener.process.wait(timeout=60) == 130


def test_save_leaves_the_webhook_commands_out_and_keeps_api_writes() -> None:
    from rshell.commands.replay import replayable
    from rshell.session.state import OPTIONS

    said = ["webhooks listen --port 8765", "webhooks verify d.json", "api POST /models owner=me name=x"]
    replay = replayable(said, {}, OPTIONS)
    assert replay.kept == ["api POST /models owner=me name=x"]
    assert [why for _, why in replay.left_out] == ["reads, checks or receives webhooks: nothing to make again"] * 2
