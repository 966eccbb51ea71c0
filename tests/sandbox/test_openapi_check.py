"""The OpenAPI checker itself must reject what the spec forbids, or it proves nothing."""

from __future__ import annotations

import httpx
import jsonschema
import pytest
from openapi_check import check_response

PREDICTION = {
    "id": "abc",
    "model": "a/b",
    "version": "v",
    "input": {},
    "output": None,
    "data_removed": False,
    "error": None,
    "status": "starting",
    "created_at": "2025-01-01T00:00:00Z",
    "urls": {"get": "http://x/v1/predictions/abc", "cancel": "http://x/c", "web": "http://x/p/abc"},
}


def _response(method: str, path: str, status: int, body: object = None, content_type: str = "application/json"):
    request = httpx.Request(method, "http://127.0.0.1:1" + path)
    return httpx.Response(status, json=body, request=request, headers={"content-type": content_type})


def test_a_valid_prediction_passes():
    check_response(_response("GET", "/v1/predictions/abc", 200, PREDICTION))


@pytest.mark.parametrize(
    "change",
    [
        {"status": "done"},  # not in the enum
        {"created_at": "yesterday"},  # not a date-time
        {"urls": {"get": "http://x"}},  # cancel and web are required
        {"data_removed": "no"},  # wrong type
    ],
)
def test_a_malformed_prediction_fails(change):
    with pytest.raises(jsonschema.ValidationError):
        check_response(_response("GET", "/v1/predictions/abc", 200, {**PREDICTION, **change}))


def test_a_missing_required_field_fails():
    body = {k: v for k, v in PREDICTION.items() if k != "error"}
    with pytest.raises(jsonschema.ValidationError):
        check_response(_response("GET", "/v1/predictions/abc", 200, body))


def test_an_undocumented_success_status_fails():
    with pytest.raises(AssertionError):
        check_response(_response("GET", "/v1/predictions/abc", 203, PREDICTION))


def test_errors_must_be_problem_json():
    with pytest.raises(AssertionError):
        check_response(_response("GET", "/v1/predictions/abc", 404, {"detail": "x"}))
    check_response(
        _response(
            "GET",
            "/v1/predictions/abc",
            404,
            {"title": "Not Found", "status": 404, "detail": "x"},
            content_type="application/problem+json",
        )
    )


def test_empty_statuses_must_be_empty():
    with pytest.raises(AssertionError):
        check_response(_response("DELETE", "/v1/deployments/a/b", 204, {"deleted": True}))
