"""The official `replicate` JavaScript client (npm, pinned in tests/js/package.json),
unchanged, against the live sandbox: node runs tests/js/driver.mjs, which prints one
JSON line per case, and each test asserts on what the client got back and on what the
sandbox then holds. The sandbox fixture checks every response against the official
spec, so the JS client's traffic is held to it too.

The same cases as the Python client's (tests/sandbox/test_sandbox_replicate_client.py),
so both official clients meet the same behaviour: official models run by name, a
versioned model's name alone is refused with Replicate's 404 and its
`owner/name:version` runs, tokens stream, file inputs are uploaded through the files
API, and a running prediction can be canceled.

node and tests/js/node_modules (`npm ci --prefix tests/js`) are needed: missing, the
test fails under CI (which installs them, see .ci/run) and skips, saying why, elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import shutil
import subprocess
import threading
import zipfile
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from needs import unavailable
from sandbox.waits import Workers, wait_event, wait_finished

from rshell.sandbox.predictors.png import decode, encode

JS = Path(__file__).resolve().parent / "js"
DRIVER = JS / "driver.mjs"
NODE_HANG = 120.0  # seconds: bounds a hung node process; node starts slowly on a loaded machine
NOT_FOUND = "The requested resource could not be found."


def _unavailable(reason: str) -> None:
    """Fail under CI (it must run there), skip with the reason elsewhere."""
    unavailable(reason, "run npm ci --prefix tests/js")


def require_client(js: Path) -> str:
    """node's path, once the pinned client is installed in `js`/node_modules."""
    path = shutil.which("node")
    if path is None:
        _unavailable("node is not installed")
    assert path is not None
    pinned = json.loads((js / "package.json").read_text())["dependencies"]["replicate"]
    installed = js / "node_modules" / "replicate" / "package.json"
    if not installed.is_file():
        _unavailable(f"the replicate npm package is not installed in {js}/node_modules")
    version = json.loads(installed.read_text())["version"]
    if version != pinned:
        _unavailable(f"{js}/node_modules has replicate {version}, package.json pins {pinned}")
    return path


@pytest.fixture(scope="module")
def node() -> str:
    return require_client(JS)


class Driver:
    """One node process running cases of driver.mjs; its JSON lines read as they come."""

    def __init__(self, node: str, sandbox: Any, cases: list[str], env: dict[str, str] | None = None) -> None:
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", ""),
            "REPLICATE_API_TOKEN": sandbox.token,
            **(env or {}),
        }
        self.process = subprocess.Popen(
            [node, str(DRIVER), sandbox.url, *cases],
            cwd=JS,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def next(self) -> dict[str, Any]:
        """The next JSON line; the process's stderr if it ended without one."""
        try:
            line = self._lines.get(timeout=NODE_HANG)
        except queue.Empty:
            self.process.kill()
            raise AssertionError("node printed nothing in time") from None
        if line is None:
            self.process.wait(timeout=NODE_HANG)
            stderr = self.process.stderr.read() if self.process.stderr else ""
            raise AssertionError(f"node exited {self.process.returncode} early:\n{stderr[-2000:]}")
        return dict(json.loads(line))

    def send(self, line: str) -> None:
        """The one line a case waits for; stdin is closed after it."""
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.close()

    def __enter__(self) -> Driver:
        return self

    def __exit__(self, *exc: object) -> None:
        """A test that failed half-way leaves no node behind."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def finish(self) -> None:
        """node must exit 0 once its cases are printed."""
        assert self.process.wait(timeout=NODE_HANG) == 0, self.process.stderr.read() if self.process.stderr else ""


def run_case(node: str, sandbox: Any, case: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """One case's result line; node's exit checked."""
    with Driver(node, sandbox, [case], env) as driver:
        result = driver.next()
        driver.finish()
    assert result["case"] == case
    return result


def succeeded(result: dict[str, Any]) -> dict[str, Any]:
    assert "error" not in result, result["error"]
    return result


def _fetch(url: str) -> bytes:
    response = httpx.get(url)
    response.raise_for_status()
    return response.content


def _green_png(tmp_path: Path) -> Path:
    path = tmp_path / "green.png"
    path.write_bytes(encode(8, 8, [bytes((0, 200, 0)) * 8 for _ in range(8)]))
    return path


def _api(sandbox: Any) -> httpx.Client:
    return httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {sandbox.token}"})


def test_an_official_model_runs_by_name(node, sandbox):
    assert succeeded(run_case(node, sandbox, "run_official"))["output"] == "hello hello"


def test_a_versioned_model_by_name_is_refused_as_on_replicate(node, sandbox):
    error = run_case(node, sandbox, "run_versioned_by_name")["error"]
    assert error["status"] == 404
    assert error["body"]["detail"] == NOT_FOUND
    with _api(sandbox) as api:
        assert api.get("/predictions").json()["results"] == []  # nothing was created


def test_a_versioned_model_runs_by_owner_name_version(node, sandbox):
    result = succeeded(run_case(node, sandbox, "run_versioned"))
    with _api(sandbox) as api:
        assert result["version"] == api.get("/models/rshell/pixels").json()["latest_version"]["id"]
    images = result["output"]
    assert len(images) == 2
    assert all(url.startswith(sandbox.root + "/delivery/") for url in images)
    assert {decode(_fetch(url)).width for url in images} == {16}


def test_stream_tokens(node, sandbox):
    result = succeeded(run_case(node, sandbox, "stream"))
    events = result["events"]
    assert events[-1]["event"] == "done"
    tokens = [e for e in events if e["event"] == "output"]
    text = "".join(e["text"] for e in tokens)
    assert len(text.split()) == 6
    assert all(e["text"] == "" for e in events if e["event"] != "output")  # toString of non-output events
    prediction = result["prediction"]
    assert prediction["status"] == "succeeded"
    assert "".join(prediction["output"]) == text


def test_a_file_input_is_uploaded_through_the_files_api(node, sandbox, tmp_path):
    image = _green_png(tmp_path)
    result = succeeded(run_case(node, sandbox, "file_input", {"IMAGE_PATH": str(image)}))
    # the client uploaded the Buffer (not the data: URL fallback) and sent the file's URL
    [upload] = result["files"]
    assert upload["size"] == image.stat().st_size
    assert result["sent"] == upload["urls"]["get"] == f"{sandbox.url}/files/{upload['id']}"
    enlarged = decode(_fetch(result["output"]))
    assert (enlarged.width, enlarged.height) == (16, 16)


def test_files_create_get_list_delete(node, sandbox, tmp_path):
    image = _green_png(tmp_path)
    result = succeeded(run_case(node, sandbox, "files", {"IMAGE_PATH": str(image)}))
    created, buffer = result["created"], result["buffer"]
    data = image.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert (created["name"], created["content_type"], created["size"]) == ("green.png", "image/png", len(data))
    assert created["metadata"] == {"purpose": "js-test", "n": 1}  # the JSON blob part, end to end
    assert created["checksums"]["sha256"] == buffer["checksums"]["sha256"] == digest
    assert buffer["name"].startswith("buffer_") and buffer["metadata"] == {}
    assert result["got"] == created
    assert set(result["listed"]) == {created["id"], buffer["id"]}
    assert result["deleted"] is True
    assert result["after"]["error"]["status"] == 404
    assert result["remaining"] == [buffer["id"]]
    assert _fetch(buffer["urls"]["download"]) == data  # the signed download URL works as given


def test_cancel_a_running_prediction(node, sandbox, monkeypatch):
    workers = Workers(monkeypatch)
    with Driver(node, sandbox, ["cancel"]) as driver:
        prediction_id = driver.next()["created"]
        wait_event(sandbox, "predictions", prediction_id, "output")  # streaming: the first token is out
        driver.send("cancel")
        result = driver.next()
        driver.finish()
    assert "error" not in result, result["error"]
    assert (result["id"], result["before"], result["canceled"]) == (prediction_id, "processing", "canceled")
    workers.wait(prediction_id)  # the model has returned: nothing it does can change the run now
    with _api(sandbox) as api:
        final = api.get(f"/predictions/{prediction_id}").json()
    assert final["status"] == "canceled"
    assert len(final["output"] or []) < 512


def test_get_a_model_and_its_versions_and_an_official_model_has_none(node, sandbox):
    result = succeeded(run_case(node, sandbox, "models"))
    assert result["versions"] == [result["latest"]] == [result["version"]]
    assert "prompt" in result["inputs"]["pixels"] and "prompt" in result["inputs"]["tinylm"]
    assert result["official"]["error"]["status"] == 404


def test_run_of_a_streaming_model_returns_its_tokens(node, sandbox):
    tokens = succeeded(run_case(node, sandbox, "run_streaming_model"))["output"]
    assert isinstance(tokens, list) and len("".join(tokens).split()) == 4


def test_model_errors_and_validation_errors(node, sandbox):
    result = succeeded(run_case(node, sandbox, "errors"))
    invalid = result["invalid"]["error"]
    assert invalid["status"] == 422 and "input.times" in invalid["body"]["detail"]
    assert result["missing"]["error"]["status"] == 404
    failed = result["failed"]["error"]
    assert "status" not in failed and failed["message"].startswith("Prediction failed: ")
    streamed = result["streamed"]["error"]  # an image model has no urls.stream, as on the real API (issue 20)
    assert "status" not in streamed and streamed["message"] == "Prediction does not support streaming"
    newest, first = result["predictions"]  # the 422 created nothing; the streamed one may still be running
    assert first == "failed" and newest in ("starting", "processing", "failed")


def test_paginate(node, sandbox, monkeypatch):
    monkeypatch.setattr("rshell.sandbox.pagination.PAGE_SIZE", 2)
    pages = succeeded(run_case(node, sandbox, "paginate"))["pages"]
    names = [name for page in pages for name in page]
    assert [len(page) for page in pages] == [2, 2, 1]
    assert len(set(names)) == 5 and "rshell/pixels" in names


def test_create_and_use_a_deployment(node, sandbox):
    result = succeeded(run_case(node, sandbox, "deployment"))
    assert result["release"] == 1
    assert result["prediction"]["status"] == "succeeded"
    assert _fetch(result["prediction"]["output"][0]).startswith(b"\x89PNG")
    assert result["updated"] == {"release": 2, "max": 3}
    assert result["listed"] == ["echoer"]
    assert result["deleted"] is True


def test_train_into_a_model_of_your_own(node, sandbox, tmp_path):
    archive = tmp_path / "images.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.png", encode(8, 8, [bytes((200, 30, 30)) * 8 for _ in range(8)]))
    with Driver(node, sandbox, ["train"], {"ARCHIVE_PATH": str(archive)}) as driver:
        training_id = driver.next()["created"]
        wait_finished(sandbox, "trainings", training_id)
        driver.send("go")
        result = succeeded(driver.next())
        driver.finish()
    training = result["training"]
    assert training["status"] == "succeeded", training
    assert training["destination"] == "sandbox/palette"
    owner_name, version = training["output"]["version"].split(":")
    assert owner_name == "sandbox/palette" and result["latest"] == version
    output = result["output"]
    first = output[0] if isinstance(output, list) else output
    assert _fetch(first).startswith(b"\x89PNG")


def test_search_hardware_account_collections_and_the_webhook_secret(node, sandbox):
    result = succeeded(run_case(node, sandbox, "catalog"))
    assert "rshell/pixels" in result["search"]  # the client sends the query JSON-quoted
    assert "cpu" in result["hardware"]
    assert result["account"] == "sandbox"
    assert {"sandbox-models", "language-models"} <= set(result["collections"])
    assert set(result["collection"]) == {"rshell/tinylm", "rshell/echo"}
    assert result["secret"].startswith("whsec_")


@pytest.mark.parametrize("installed", [None, "1.3.0"])
def test_a_missing_client_fails_under_ci_and_skips_elsewhere(tmp_path, monkeypatch, installed):
    """What decides whether this file runs: CI must have the pinned client, a fresh clone skips."""
    (tmp_path / "package.json").write_text((JS / "package.json").read_text())
    if installed:
        (tmp_path / "node_modules" / "replicate").mkdir(parents=True)
        (tmp_path / "node_modules" / "replicate" / "package.json").write_text(json.dumps({"version": installed}))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="run npm ci --prefix tests/js"):
        require_client(tmp_path)
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="CI must install it"):
        require_client(tmp_path)


def test_a_webhook_from_the_sandbox_passes_the_clients_validate_webhook(node, sandbox):
    result = succeeded(run_case(node, sandbox, "webhook"))
    assert result["valid"] is True and result["forged"] is False
    assert result["delivered"] == {"id": result["id"], "status": "succeeded", "output": "hook"}
