"""CogPredictor against a real Cog server (the `cog` package's coglet) on 127.0.0.1.

The model is tests/sandbox/cog_model: predict.py, cog.yaml, and the
.cog/openapi_schema.json that `cog build` would have written (see cog.yaml).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from rshell.errors import NetworkError, RshellError
from rshell.sandbox.cog import CogPredictor
from rshell.sandbox.predictors import Cancelled, MemoryRun, PredictionError
from rshell.sandbox.predictors.declare import Input
from rshell.sandbox.predictors.declare import Path as FilePath
from rshell.sandbox.predictors.model import CogStyleModel, Job

MODEL_DIR = Path(__file__).parent / "cog_model"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"cog server exited with {proc.returncode}")
        try:
            if httpx.get(url + "/health-check", timeout=1).json().get("status") == "READY":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("cog server did not become ready")


@contextlib.contextmanager
def serve_cog(log_dir: Path, *args: str) -> Iterator[str]:
    """`python -m cog.server.http` serving cog_model, as its Docker image would."""
    port = _free_port()
    predict_ref = yaml.safe_load((MODEL_DIR / "cog.yaml").read_text())["predict"]
    env = {
        **os.environ,
        "PORT": str(port),
        "COG_PREDICT_TYPE_STUB": predict_ref,  # what `cog build` bakes into the image
        # coglet starts its worker with the `python` on PATH: make it this venv's
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
    }
    log = (log_dir / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cog.server.http", "--host", "127.0.0.1", *args],
        cwd=MODEL_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def cog_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_cog(tmp_path_factory.mktemp("cog")) as url:
        yield url


class UploadHost(BaseHTTPRequestHandler):
    """Stands in for the bucket Cog PUTs output files to when given --upload-url."""

    files: dict[str, tuple[bytes, str]] = {}

    def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        self.files[self.path] = (body, self.headers.get("content-type") or "application/octet-stream")
        self.send_response(201)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        body, content_type = self.files[self.path]
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def uploading_cog_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    """A Cog server that uploads its output files to a local host instead of inlining them."""
    host = ThreadingHTTPServer(("127.0.0.1", 0), UploadHost)
    threading.Thread(target=host.serve_forever, daemon=True).start()
    upload = f"http://127.0.0.1:{host.server_port}/upload/"
    try:
        with serve_cog(tmp_path_factory.mktemp("cog-upload"), "--upload-url", upload) as url:
            yield url, UploadHost.files
    finally:
        host.shutdown()
        host.server_close()


@pytest.fixture
def model(cog_url: str) -> Iterator[CogPredictor]:
    predictor = CogPredictor(cog_url, "tests/cog-writer")
    yield predictor
    predictor.close()


def test_schema_is_the_servers_openapi_document(model: CogPredictor, cog_url: str) -> None:
    schema = model.openapi_schema()
    assert schema == httpx.get(cog_url + "/openapi.json").json()
    props = schema["components"]["schemas"]["Input"]["properties"]
    assert props["times"]["maximum"] == 5 and props["style"]["allOf"][0]["$ref"].endswith("/style")
    assert model.openapi_schema() is schema  # fetched once


def test_prediction_is_forwarded_and_the_file_output_rehosted(model: CogPredictor) -> None:
    run = MemoryRun()
    output = model.predict({"text": "hello", "times": 2, "style": "shout"}, run)
    assert isinstance(output, str) and output in run.files
    data, filename, content_type = run.files[output]
    assert data == b"HELLO\nHELLO\n"
    assert content_type == "text/plain" and filename.endswith(".txt")
    assert "writing 2 line(s)" in run.logs


def test_uploaded_file_outputs_are_fetched_and_rehosted(uploading_cog_url: tuple[str, dict[str, Any]]) -> None:
    url, uploaded = uploading_cog_url
    predictor = CogPredictor(url, "tests/uploader")
    run = MemoryRun()
    try:
        output = predictor.predict({"text": "up", "times": 3}, run)
    finally:
        predictor.close()
    assert uploaded["/upload/result.txt"][0] == b"up\nup\nup\n"  # Cog really uploaded it
    assert output.startswith("memory://") and run.files[output] == (b"up\nup\nup\n", "result.txt", "text/plain")


def test_file_inputs_reach_cog_inlined(model: CogPredictor) -> None:
    run = MemoryRun()
    sandbox_file = run.save_file(b"x" * 1234, "blob.bin", "application/octet-stream")
    output = model.predict({"text": "hi", "attachment": sandbox_file}, run)
    assert run.files[output][0] == b"hi\nattachment: 1234 bytes\n"


def test_a_failed_cog_prediction_is_a_prediction_error(model: CogPredictor) -> None:
    with pytest.raises(PredictionError) as caught:
        model.predict({"text": "hi", "style": "whisper"}, MemoryRun())
    assert "\n" not in str(caught.value) and str(caught.value)


def test_cancel_reaches_cog_and_stops_the_prediction(model: CogPredictor, monkeypatch: pytest.MonkeyPatch) -> None:
    # rshell never gives up on the cancel here, so only Cog stopping the prediction ends it
    # before the model's 30 s sleep would (and then with its output file)
    monkeypatch.setattr("rshell.sandbox.cog.CANCEL_GIVE_UP", 3600.0)
    answers: list[bool] = []  # Cog's answer to each cancel request: False while it lacks the prediction
    real_cancel = CogPredictor._cancel

    def cancel(self: CogPredictor, prediction_id: str) -> bool:
        answers.append(real_cancel(self, prediction_id))
        return answers[-1]

    monkeypatch.setattr(CogPredictor, "_cancel", cancel)
    run = MemoryRun()
    run.cancel()  # asked to stop at once: rshell keeps asking Cog until Cog has the prediction
    with pytest.raises(Cancelled) as caught:
        model.predict({"text": "slow", "sleep": 30}, run)
    assert answers and answers[-1] is True  # Cog accepted the cancel ...
    assert caught.value.output is None  # ... and the sleep was interrupted: no output file was made
    # and the Cog server is free again for the next prediction
    output = model.predict({"text": "after"}, MemoryRun())
    assert output.startswith("memory://")


def test_unreachable_server_is_a_network_error() -> None:
    predictor = CogPredictor(f"http://127.0.0.1:{_free_port()}", "tests/nowhere")
    with pytest.raises(NetworkError) as caught:
        predictor.openapi_schema()
    assert "cannot reach the Cog server" in caught.value.message
    predictor.close()


class SameAsCogModel(CogStyleModel):
    """cog_model/predict.py, declared with rshell's helper instead of cog's."""

    def run(
        self,
        job: Job,
        text: str = Input(description="Text to write into the output file"),
        times: int = Input(description="How many lines to write", default=1, ge=1, le=5),
        style: str = Input(description="Letter case", default="plain", choices=["plain", "shout"]),
        attachment: FilePath = Input(description="An optional file whose size is reported", default=None),
        sleep: float = Input(description="Seconds to wait first", default=0.0, ge=0, le=30),
    ) -> FilePath:
        raise AssertionError("only the schema is compared")


def test_generated_schema_equals_cogs_for_the_same_declaration() -> None:
    cog_generated = json.loads((MODEL_DIR / ".cog" / "openapi_schema.json").read_text())
    assert SameAsCogModel().openapi_schema() == cog_generated


def test_data_url_outputs_inside_lists_are_rehosted() -> None:
    from rshell.sandbox.cog import _Rehoster

    run = MemoryRun()
    png = b"\x89PNG\r\n\x1a\nfake"
    value = ["data:image/png;base64," + base64.b64encode(png).decode(), "plain text"]
    schema = {"type": "array", "items": {"type": "string"}}
    with httpx.Client() as http:
        out = _Rehoster(http, run).walk(value, schema, {})
    assert out[1] == "plain text"
    assert run.files[out[0]] == (png, "output.png", "image/png")


def test_a_server_without_a_schema_is_refused_with_a_hint() -> None:
    import respx

    with respx.mock(base_url="http://cog.test") as mock:
        mock.get("/openapi.json").respond(503, json={"error": "OpenAPI schema not available"})
        mock.get("/health-check").respond(200, json={"status": "READY"})
        predictor = CogPredictor("http://cog.test", "tests/schemaless")
        with pytest.raises(RshellError) as caught:
            predictor.openapi_schema()
    assert "publishes no OpenAPI schema" in caught.value.message and caught.value.hint
    predictor.close()


def test_a_non_json_server_error_is_one_line() -> None:
    import respx

    document = SameAsCogModel().openapi_schema()
    with respx.mock(base_url="http://cog.test") as mock:
        mock.get("/openapi.json").respond(200, json=document)
        mock.post("/predictions").respond(500, text="<html>\n<h1>Internal Server Error</h1>\n</html>")
        predictor = CogPredictor("http://cog.test", "tests/broken")
        with pytest.raises(PredictionError) as caught:
            predictor.predict({"text": "x"}, MemoryRun())
    assert str(caught.value) == "the Cog server answered 500: <html>"
    predictor.close()
