"""Attach a running Cog model server to the sandbox as one more predictor.

`rshell serve --cog NAME=URL` wraps the model at URL in a `CogPredictor`: its schema
is the server's /openapi.json, and each prediction is forwarded to its
POST /predictions. Cog hands file outputs back as data: URLs (or URLs on its upload
host); those are re-hosted through the run's `save_file`, so clients see ordinary
sandbox file URLs. File inputs go the other way, inlined as data: URLs, because the
Cog server cannot be assumed to reach (or authenticate to) the sandbox.
"""

from __future__ import annotations

import mimetypes
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from rshell import dataurls
from rshell.errors import NetworkError, RshellError
from rshell.sandbox.predictors.base import Cancelled, PredictionError, RunContext, decode_data_url

POLL = 0.05  # seconds between cancellation checks while a prediction runs
CANCEL_GIVE_UP = 5.0  # seconds to keep asking Cog to cancel before abandoning the request
BUSY_WAIT = 30.0  # seconds to keep retrying while Cog says it is busy (409)


class CogPredictor:
    """A `Predictor` whose work is done by a Cog HTTP server at `url`."""

    hardware = "cpu"
    trainable = False

    def __init__(self, url: str, name: str, *, ready_timeout: float = 60.0, predict_timeout: float = 3600.0) -> None:
        self.url = url.rstrip("/")
        self.name = name
        self.description = f"Cog model served at {self.url}"
        self.ready_timeout = ready_timeout
        self._http = httpx.Client(timeout=httpx.Timeout(10.0, read=predict_timeout))
        self._schema: dict[str, Any] | None = None
        self._schema_lock = threading.Lock()
        self._busy = threading.Lock()  # Cog runs one prediction at a time; queue, don't 409
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix=f"cog-{name}")

    def close(self) -> None:
        """Release the HTTP connections (the sandbox calls it on shutdown)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._http.close()

    # the schema -------------------------------------------------------------------

    def openapi_schema(self) -> dict[str, Any]:
        """The model's /openapi.json, fetched once (after Cog's setup has finished)."""
        with self._schema_lock:
            if self._schema is None:
                self._schema = self._fetch_schema()
            return self._schema

    def _fetch_schema(self) -> dict[str, Any]:
        deadline = time.monotonic() + self.ready_timeout
        while True:
            document = self._get_json("/openapi.json")
            if isinstance(document, dict) and "components" in document:
                return document
            status = self._health()
            if status not in {"STARTING", "BUSY"} or time.monotonic() > deadline:
                raise RshellError(
                    f"the Cog server at {self.url} publishes no OpenAPI schema (status {status})",
                    hint="build the model with a recent `cog build`, which writes the schema",
                )
            time.sleep(0.2)

    def _health(self) -> str:
        body = self._get_json("/health-check")
        return str(body.get("status", "UNKNOWN")) if isinstance(body, dict) else "UNKNOWN"

    def _get_json(self, path: str) -> Any:
        try:
            response = self._http.get(self.url + path)
        except httpx.HTTPError:
            raise NetworkError(
                f"cannot reach the Cog server for {self.name} at {self.url}",
                hint="start it with `cog serve` or `python -m cog.server.http`",
            ) from None
        try:
            return response.json()
        except ValueError:
            return None

    # a prediction -----------------------------------------------------------------

    def predict(
        self, inputs: dict[str, Any], run: RunContext, weights: dict[str, Any] | None = None
    ) -> Any | Iterator[Any]:
        """Forward one prediction; logs, failure and cancellation map onto the run."""
        schema = self.openapi_schema()
        prediction_id = f"rshell-{uuid.uuid4().hex[:20]}"
        payload = {"id": prediction_id, "input": self._inline_files(inputs, run, schema)}
        self._acquire(run)
        try:
            body = self._run_when_free(payload, prediction_id, run)
        finally:
            self._busy.release()
        for line in str(body.get("logs") or "").splitlines():
            run.log(line)
        return self._result(body, run, schema)

    def _acquire(self, run: RunContext) -> None:
        while not self._busy.acquire(timeout=POLL):
            if run.cancelled():
                raise Cancelled()

    def _run_when_free(self, payload: dict[str, Any], prediction_id: str, run: RunContext) -> dict[str, Any]:
        """Retry while Cog answers 409: its slot frees a moment after a cancel or a
        prediction someone else sent it. Nothing was created, so a retry is safe."""
        deadline = time.monotonic() + BUSY_WAIT
        while True:
            body = self._run(payload, prediction_id, run)
            if body is not None:
                return body
            if time.monotonic() > deadline:
                raise PredictionError("the Cog model is busy with another prediction")
            if run.cancelled():
                raise Cancelled()
            time.sleep(0.1)

    def _run(self, payload: dict[str, Any], prediction_id: str, run: RunContext) -> dict[str, Any] | None:
        """POST and wait, asking Cog to cancel if the run is canceled meanwhile; None on 409."""
        future: Future[httpx.Response] = self._pool.submit(self._http.post, f"{self.url}/predictions", json=payload)
        cancel_since: float | None = None
        cancel_sent = False
        while True:
            try:
                return self._decode(future.result(timeout=POLL))
            except FutureTimeout:
                pass
            except httpx.HTTPError:
                raise PredictionError(f"lost the connection to the Cog server at {self.url}") from None
            if not run.cancelled():
                continue
            if cancel_since is None:
                cancel_since = time.monotonic()
            if not cancel_sent:  # Cog answers 404 until the prediction has started
                cancel_sent = self._cancel(prediction_id)
            if time.monotonic() - cancel_since > CANCEL_GIVE_UP:
                raise Cancelled()  # Cog cannot stop it: stop waiting, it finishes on its own

    def _cancel(self, prediction_id: str) -> bool:
        """Ask Cog to stop; False while it does not know the prediction yet."""
        try:
            response = self._http.post(f"{self.url}/predictions/{prediction_id}/cancel")
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def _decode(self, response: httpx.Response) -> dict[str, Any] | None:
        if response.status_code == 409:
            return None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code == 422:
            raise PredictionError(f"the Cog model rejected the input: {_problem(body, response)}")
        if not isinstance(body, dict) or (response.status_code >= 400 and "status" not in body):
            raise PredictionError(f"the Cog server answered {response.status_code}: {_problem(body, response)}")
        return body

    def _result(self, body: dict[str, Any], run: RunContext, schema: dict[str, Any]) -> Any:
        status = body.get("status")
        output_schema = _output_schema(schema)
        if status == "failed":
            raise PredictionError(str(body.get("error") or "the Cog model failed").splitlines()[0])
        output = body.get("output")
        output = None if output is None else _Rehoster(self._http, run).walk(output, output_schema, schema)
        if status == "canceled":
            raise Cancelled(output)
        if run.cancelled():
            raise Cancelled(output)
        if output_schema.get("x-cog-array-type") == "iterator" and isinstance(output, list):
            return iter(output)
        return output

    # file inputs ------------------------------------------------------------------

    def _inline_files(self, inputs: dict[str, Any], run: RunContext, schema: dict[str, Any]) -> dict[str, Any]:
        """File inputs (format uri) as data: URLs, so Cog needs no access to the sandbox."""
        properties = _resolve(schema, schema.get("components", {}).get("schemas", {}).get("Input", {}))
        properties = properties.get("properties", {})
        out = dict(inputs)
        for key, value in inputs.items():
            prop = _resolve(schema, properties.get(key, {}))
            if _is_uri(prop) and isinstance(value, str):
                out[key] = _as_data_url(value, run)
            elif (
                prop.get("type") == "array"
                and _is_uri(_resolve(schema, prop.get("items", {})))
                and isinstance(value, list)
            ):
                out[key] = [_as_data_url(v, run) if isinstance(v, str) else v for v in value]
        return out


def _problem(body: Any, response: httpx.Response) -> str:
    """One line out of Cog's error shapes: {"detail": [...]}, {"detail": str}, {"error": str}."""
    if isinstance(body, dict):
        detail = body.get("detail", body.get("error"))
        if isinstance(detail, list) and detail and isinstance(detail[0], dict):
            loc = ".".join(str(p) for p in detail[0].get("loc", []) if p not in ("body", "input"))
            return f"{loc}: {detail[0].get('msg', '')}".strip(": ")
        if detail:
            return str(detail).splitlines()[0]
    return response.text.splitlines()[0][:200] if response.text else f"HTTP {response.status_code}"


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow a `$ref` (or a single-`allOf` ref) into the document's components."""
    ref = schema.get("$ref") or (schema.get("allOf") or [{}])[0].get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        target = document.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[1], {})
        return {**target, **{k: v for k, v in schema.items() if k not in ("$ref", "allOf")}}
    return schema


def _output_schema(document: dict[str, Any]) -> dict[str, Any]:
    return _resolve(document, document.get("components", {}).get("schemas", {}).get("Output", {}))


def _is_uri(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "string" and schema.get("format") == "uri"


def _as_data_url(value: str, run: RunContext) -> str:
    """A data: URL of the file behind `value`; a URL the sandbox cannot read passes as is."""
    if value.startswith("data:"):
        return value
    try:
        data = run.read_input(value)
    except Exception:  # not a sandbox file: let Cog fetch the URL itself
        return value
    mime = mimetypes.guess_type(urlsplit(value).path)[0] or "application/octet-stream"
    return dataurls.encode(data, mime)


class _Rehoster:
    """Copies the files in a Cog output into the sandbox, replacing their URLs."""

    def __init__(self, http: httpx.Client, run: RunContext) -> None:
        self.http = http
        self.run = run
        self.count = 0

    def walk(self, value: Any, schema: dict[str, Any], document: dict[str, Any]) -> Any:
        """`value` with every file URL re-hosted; the schema says which strings are files."""
        schema = _resolve(document, schema)
        if isinstance(value, list):
            items = schema.get("items", {})
            return [self.walk(v, items, document) for v in value]
        if isinstance(value, dict):
            props = schema.get("properties", {})
            return {k: self.walk(v, props.get(k, {}), document) for k, v in value.items()}
        if isinstance(value, str) and value.startswith("data:"):
            return self._save(decode_data_url(value), dataurls.media_type(value), None)
        if isinstance(value, str) and _is_uri(schema) and value.startswith(("http://", "https://")):
            return self._download(value)
        return value

    def _download(self, url: str) -> str:
        try:
            response = self.http.get(url)
            response.raise_for_status()
        except httpx.HTTPError:
            raise PredictionError(f"cannot fetch the Cog model's output file {url[:100]}") from None
        mime = response.headers.get("content-type", "application/octet-stream").split(";")[0].strip()
        name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        return self._save(response.content, mime, name or None)

    def _save(self, data: bytes, mime: str, name: str | None) -> str:
        if not name:
            ext = mimetypes.guess_extension(mime) or ".bin"
            name = f"output{ext}" if self.count == 0 else f"output-{self.count}{ext}"
        self.count += 1
        return self.run.save_file(data, name.replace("/", "_").replace("\\", "_"), mime)
