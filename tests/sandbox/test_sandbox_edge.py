"""Bad requests are 4xx problem+json at the edge and never stored; a 500 keeps the
connection; OPTIONS and 405 name the path's real methods; bodies are capped."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import checked_client
from sandbox_fakes import Fake, schema

from rshell.sandbox.predictors.base import PredictionError, decode_data_url
from rshell.sandbox.server import start

JSON = {"Content-Type": "application/json"}
MODEL = {"owner": "sandbox", "name": "m", "visibility": "private", "hardware": "cpu"}


def _post(client: Any, path: str, raw: bytes, headers: dict[str, str] | None = None) -> Any:
    return client.post(path, content=raw, headers=headers or JSON)


def _still_lists(client: Any) -> None:
    for path in ("/predictions", "/models", "/trainings", "/models/test/echo", "/models/test/echo/examples"):
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize(
    "raw",
    [
        b'{"input": {"text": "\\ud800"}}',  # a lone surrogate, as a JSON escape
        b'{"input": {"text": "x\\udfff"}}',
        b'{"input": {"\\ud800": "x"}}',  # in a key
        b'{"input": {"text": "x", "n": NaN}}',
        b'{"input": {"text": "x", "n": Infinity}}',
        b'{"input": {"text": "x", "n": -Infinity}}',
        b'{"input": {"text": "x", "n": 1e400}}',  # overflows to infinity
        b'{"input": {"text": "\xff"}}',  # not UTF-8
        b'{"input": ' + b"[" * 100 + b"]" * 100 + b"}",  # deeper than the cap
        b'{"input": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # deeper than Python's recursion limit
        b'{"input": {"text": "x"}, "webhook_events_filter": [{}]}',
        b'{"input": {"text": "x"}, "webhook_events_filter": ["start", ["logs"]]}',
        b'{"input": {"text": "x"}, "webhook": 5}',
        b'{"input": {"text": "x"}, "stream": "yes"}',
    ],
)
def test_a_bad_prediction_body_is_a_4xx_problem_and_stores_nothing(fake, raw):
    response = _post(fake.client, "/models/test/echo/predictions", raw)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "\n" not in response.json()["detail"]
    assert fake.client.get("/predictions").json()["results"] == []
    _still_lists(fake.client)


def test_a_bad_model_description_is_refused_and_the_listing_survives_a_restart(tmp_path):
    handle = start(tmp_path / "data", predictors={})
    with handle, checked_client(handle) as client:
        for raw in (
            b'{"owner": "sandbox", "name": "m", "visibility": "private", "hardware": "cpu", "description": "\\ud800"}',
            b'{"owner": "sandbox", "name": "m", "visibility": "private", "hardware": "cpu", "description": NaN}',
        ):
            assert _post(client, "/models", raw).status_code == 400
        assert client.patch("/models/sandbox/m", content=b'{"description": "\\udc00"}', headers=JSON).status_code in (
            400,
            404,
        )
        assert client.post("/models", json=MODEL).status_code == 201
        bad_update = client.patch("/models/sandbox/m", content=b'{"description": "\\udc00"}', headers=JSON)
        assert bad_update.status_code == 400
        assert client.get("/models").status_code == 200
    handle = start(tmp_path / "data", predictors={})
    with handle, checked_client(handle) as client:
        listed = client.get("/models").json()["results"]
        assert [(m["name"], m["description"]) for m in listed] == [("m", None)]


def test_webhook_events_filter_of_a_training_is_checked(fake):
    trainer = fake.client.get("/models/test/trainer").json()["latest_version"]["id"]
    fake.client.post("/models", json=MODEL)
    response = fake.client.post(
        f"/models/test/trainer/versions/{trainer}/trainings",
        json={"destination": "sandbox/m", "input": {"prefix": "+"}, "webhook_events_filter": [{}]},
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("webhook_events_filter.0:")
    assert fake.client.get("/trainings").json()["results"] == []


@pytest.mark.parametrize("value", ["9" * 5000, "99999999999999999999h", "999999h", "9999999999"])
def test_an_overflowing_cancel_after_is_422(fake, value):
    response = fake.client.post(
        "/models/test/echo/predictions", json={"input": {"text": "x"}}, headers={"Cancel-After": value}
    )
    assert response.status_code == 422 and response.json()["detail"].startswith("Cancel-After:")
    assert fake.client.get("/predictions").json()["results"] == []


@pytest.mark.parametrize(
    "headers", [{"Content-Type": "text/plain"}, {"Content-Type": "application/x-www-form-urlencoded"}, {}]
)
def test_a_json_body_must_be_sent_as_json(fake, headers):
    raw = json.dumps({"input": {"text": "x"}}).encode()
    response = fake.client.post("/models/test/echo/predictions", content=raw, headers=headers)
    assert response.status_code == 415
    assert fake.client.get("/predictions").json()["results"] == []


def test_json_bodies_are_capped_with_or_without_a_length(fake, monkeypatch):
    monkeypatch.setattr("rshell.sandbox.edge.MAX_JSON_BYTES", 1000)
    raw = json.dumps({"input": {"text": "x" * 2000}}).encode()
    sized = _post(fake.client, "/models/test/echo/predictions", raw)
    assert sized.status_code == 413 and "1000 bytes" in sized.json()["detail"]
    assert sized.headers["connection"] == "close"

    def chunks():
        yield raw[:600]
        yield raw[600:]

    chunked = fake.client.post("/models/test/echo/predictions", content=chunks(), headers=JSON)
    assert chunked.status_code == 413
    query = fake.client.request("QUERY", "/models", content=b"x" * 2000, headers={"Content-Type": "text/plain"})
    assert query.status_code == 413
    assert fake.client.get("/predictions").json()["results"] == []
    assert _post(fake.client, "/models/test/echo/predictions", b'{"input": {"text": "ok"}}').status_code == 201


def test_a_500_is_problem_json_and_keeps_the_connection(sandbox, monkeypatch):
    monkeypatch.setattr("rshell.sandbox.api_account.ACCOUNT", object())  # not JSON-able: the handler crashes
    parts = urlsplit(sandbox.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    headers = {"Authorization": f"Bearer {sandbox.token}"}
    try:
        connection.request("GET", "/v1/account", headers=headers)
        crashed = connection.getresponse()
        body = json.loads(crashed.read())
        assert crashed.status == 500 and crashed.getheader("content-type") == "application/problem+json"
        assert body["detail"] == "internal sandbox error: TypeError"
        assert crashed.getheader("connection") != "close"
        connection.request("GET", "/v1/hardware", headers=headers)  # the same socket, kept alive
        again = connection.getresponse()
        assert again.status == 200 and json.loads(again.read())
    finally:
        connection.close()


def test_options_answers_every_method_of_the_path(api):
    for path, methods in (
        ("/models", "GET, HEAD, OPTIONS, POST, QUERY"),
        ("/models/rshell/echo", "DELETE, GET, HEAD, OPTIONS, PATCH"),
        ("/predictions/abc/cancel", "OPTIONS, POST"),
    ):
        response = api.options(path)
        assert response.status_code == 204 and response.headers["allow"] == methods, path
    assert api.options("/nowhere").status_code == 404


def test_405_names_every_method_of_the_path(api):
    response = api.put("/models")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST, QUERY"


def test_search_errors_use_the_documented_content_type(api):
    for params in ({}, {"query": "x", "limit": "99"}, {"query": "x", "limit": "many"}):
        response = api.get("/search", params=params)
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/json"
        assert response.json()["detail"]


def test_a_malformed_data_url_is_refused_not_run_as_an_empty_file(fake):
    for url in ("data:image/png;base64,!!!", "data:image/png;base64,aGVsbG8=!"):
        response = fake.client.post("/models/test/reader/predictions", json={"input": {"file": url}})
        assert response.status_code == 422 and response.json()["detail"].startswith("input.file:")
    assert fake.client.get("/predictions").json()["results"] == []
    good = fake.client.post(
        "/models/test/reader/predictions",
        json={"input": {"file": "data:text/plain;base64,aGVsbG8"}},
        headers={"Prefer": "wait"},
    ).json()
    assert good["output"]["size"] == 5


def test_decode_data_url_is_strict():
    with pytest.raises(PredictionError):
        decode_data_url("data:image/png;base64,!!!")
    assert decode_data_url("data:text/plain;base64,aGVs%0AbG8=") == b"hello"
    assert decode_data_url("data:,a%20b") == b"a b"


def test_a_predictor_output_that_json_cannot_carry_is_cleaned(tmp_path):
    def weird(inputs: dict[str, Any], run: Any, weights: Any) -> Any:
        run.log("log \ud800 line")
        return {"nan": float("nan"), "inf": [float("inf")], "text": "bad \udc00"}

    predictors = {"test/weird": Fake("test/weird", schema({}, [], {"type": "object"}), weird)}
    handle = start(tmp_path / "data", predictors=predictors)
    with handle, checked_client(handle) as client:
        done = client.post("/models/test/weird/predictions", json={"input": {}}, headers={"Prefer": "wait"}).json()
        assert done["output"] == {"nan": None, "inf": [None], "text": "bad \ufffd"}
        assert done["logs"] == "log \ufffd line\n"
        assert client.get("/predictions").status_code == 200
        assert client.get("/models/test/weird").json()["default_example"]["id"] == done["id"]


def test_a_huge_prediction_is_never_embedded_as_a_default_example(fake):
    small = fake.client.post(
        "/models/test/echo/predictions", json={"input": {"text": "small"}}, headers={"Prefer": "wait"}
    ).json()
    huge = fake.client.post(
        "/models/test/echo/predictions", json={"input": {"text": "x" * 400_000}}, headers={"Prefer": "wait"}
    ).json()
    assert huge["status"] == "succeeded" and len(huge["output"]) == 400_000
    model = fake.client.get("/models/test/echo")
    assert model.json()["default_example"]["id"] == small["id"]
    assert len(model.content) < 100_000
    listing = fake.client.get("/models")
    assert len(listing.content) < 200_000
    assert [e["id"] for e in fake.client.get("/models/test/echo/examples").json()["results"]] == [small["id"]]
    assert fake.client.get(f"/predictions/{huge['id']}").json()["output"] == "x" * 400_000  # still all there
