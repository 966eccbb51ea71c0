"""The sandbox's catalogue endpoints, auth and errors, against the real built-in models.

Every response passes through the OpenAPI check (see conftest), so each test also
proves the shape of what it touched.
"""

from __future__ import annotations

import httpx
import pytest
from conftest import checked_client

BUILTIN = {"rshell/pixels", "rshell/upscale", "rshell/tinylm", "rshell/echo", "rshell/palette-trainer"}


def _names(page: dict) -> set[str]:
    return {f"{m['owner']}/{m['name']}" for m in page["results"]}


def test_requests_without_a_token_get_401_problem_json(sandbox):
    with checked_client(sandbox, token=None) as anonymous:
        response = anonymous.get("/account")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Bearer" in response.json()["detail"]
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Bearer anything", "Token r8_whatever"])
def test_any_non_empty_token_is_accepted(sandbox, header):
    response = httpx.get(sandbox.url + "/account", headers={"Authorization": header})
    assert response.status_code == 200
    assert response.json()["username"] == "sandbox"


def test_an_empty_bearer_is_refused(sandbox):
    assert httpx.get(sandbox.url + "/account", headers={"Authorization": "Bearer"}).status_code == 401


def test_account_hardware_and_webhook_secret(api):
    account = api.get("/account").json()
    assert account == {
        "type": "user",
        "username": "sandbox",
        "name": "Sandbox User",
        "github_url": "https://github.com/sandbox",
    }
    skus = [h["sku"] for h in api.get("/hardware").json()]
    assert "cpu" in skus and "gpu-t4" in skus
    secret = api.get("/webhooks/default/secret").json()["key"]
    assert secret.startswith("whsec_")
    assert api.get("/webhooks/default/secret").json()["key"] == secret


def test_unknown_things_are_404_problems(api):
    assert api.get("/models/rshell/nope").status_code == 404
    assert api.get("/predictions/doesnotexist").json()["detail"] == "prediction doesnotexist not found"
    assert api.get("/no/such/endpoint").status_code == 404
    assert api.get("/files/zzz").status_code == 404
    assert api.get("/deployments/sandbox/none").status_code == 404
    assert api.get("/collections/none").status_code == 404
    assert api.get("/trainings/none").status_code == 404


def test_wrong_method_is_405_problem(api):
    response = api.put("/account")
    assert response.status_code == 405
    assert response.json()["status"] == 405


def test_built_in_models_are_listed_with_their_latest_version(api):
    page = api.get("/models").json()
    assert _names(page) == BUILTIN
    pixels = api.get("/models/rshell/pixels").json()
    schema = pixels["latest_version"]["openapi_schema"]
    assert "prompt" in schema["components"]["schemas"]["Input"]["properties"]
    version = api.get(f"/models/rshell/pixels/versions/{pixels['latest_version']['id']}").json()
    assert version == pixels["latest_version"]
    assert len(version["id"]) == 64


OFFICIAL = {"rshell/tinylm": True, "rshell/echo": True}  # the others run by version only


def test_built_in_models_are_a_mix_of_official_and_versioned(api):
    kinds = {name: api.get(f"/models/{name}").json()["is_official"] for name in BUILTIN}
    assert kinds == {name: OFFICIAL.get(name, False) for name in BUILTIN}


def test_a_versioned_model_runs_by_version_only(api):
    """As on Replicate: the model endpoint of a model that is not official is a 404."""
    latest = api.get("/models/rshell/pixels").json()["latest_version"]["id"]
    inputs = {"input": {"prompt": "x", "width": 16, "height": 16}}
    by_name = api.post("/models/rshell/pixels/predictions", json=inputs)
    assert by_name.status_code == 404
    assert by_name.json()["detail"] == "The requested resource could not be found."
    assert api.post("/predictions", json={"version": "rshell/pixels", **inputs}).status_code == 422
    for ref in (latest, f"rshell/pixels:{latest}"):
        assert api.post("/predictions", json={"version": ref, **inputs}).status_code in (201, 202)
    assert [v["id"] for v in api.get("/models/rshell/pixels/versions").json()["results"]] == [latest]


def test_an_official_model_runs_by_name_and_lists_no_versions(api):
    model = api.get("/models/rshell/echo").json()
    latest = model["latest_version"]["id"]  # shown with its schema, but not addressable
    assert api.get("/models/rshell/echo/versions").status_code == 404
    assert api.get(f"/models/rshell/echo/versions/{latest}").status_code == 404
    inputs = {"input": {"text": "hi"}}
    done = api.post("/models/rshell/echo/predictions", json=inputs, headers={"Prefer": "wait"})
    assert done.status_code == 201 and done.json()["output"] == "hi"
    assert done.json()["version"] == "hidden"  # as Replicate shows an official model's predictions
    named = api.post("/predictions", json={"version": "rshell/echo", **inputs}, headers={"Prefer": "wait"})
    assert named.status_code == 201 and named.json()["output"] == "hi"
    for ref in (latest, f"rshell/echo:{latest}"):
        refused = api.post("/predictions", json={"version": ref, **inputs})
        assert refused.status_code == 422 and "does not exist" in refused.json()["detail"]
    body = {"name": "e", "model": "rshell/echo", "version": latest, "hardware": "cpu"}
    deployed = api.post("/deployments", json={**body, "min_instances": 0, "max_instances": 1})
    assert deployed.status_code == 422 and "official" in deployed.json()["detail"]


def test_version_ids_are_stable_across_servers(sandbox):
    from rshell.sandbox.server import start

    first = httpx.get(sandbox.url + "/models/rshell/echo", headers={"Authorization": "Bearer t"}).json()
    with start() as other:
        second = httpx.get(other.url + "/models/rshell/echo", headers={"Authorization": "Bearer t"}).json()
    assert first["latest_version"]["id"] == second["latest_version"]["id"]


def test_model_create_update_delete_rules(api):
    body = {"owner": "sandbox", "name": "my-model", "visibility": "private", "hardware": "cpu", "description": "mine"}
    created = api.post("/models", json=body)
    assert created.status_code == 201
    assert created.json()["latest_version"] is None and created.json()["run_count"] == 0
    assert api.post("/models", json=body).status_code == 409
    assert api.post("/models", json={**body, "owner": "someone-else", "name": "x"}).status_code == 403
    bad = api.post("/models", json={**body, "name": "other", "hardware": "gpu-imaginary"})
    assert bad.status_code == 422 and "hardware" in bad.json()["detail"]
    missing = api.post("/models", json={"owner": "sandbox", "name": "m2", "hardware": "cpu"})
    assert missing.status_code == 422 and "visibility" in missing.json()["detail"]
    updated = api.patch("/models/sandbox/my-model", json={"description": "changed", "readme": "# Hello"})
    assert updated.json()["description"] == "changed"
    assert api.get("/models/sandbox/my-model/readme").text == "# Hello"
    unchanged = api.patch("/models/sandbox/my-model", json={"visibility": "public"})  # not an update field:
    assert unchanged.status_code == 200 and unchanged.json()["visibility"] == "private"  # allowed, ignored
    assert api.patch("/models/rshell/echo", json={"description": "x"}).status_code == 403
    assert api.delete("/models/rshell/echo").status_code == 403
    assert api.delete("/models/sandbox/my-model").status_code == 204
    assert api.get("/models/sandbox/my-model").status_code == 404


def test_public_models_cannot_be_deleted(api):
    api.post("/models", json={"owner": "sandbox", "name": "pub", "visibility": "public", "hardware": "cpu"})
    response = api.delete("/models/sandbox/pub")
    assert response.status_code == 403 and "private" in response.json()["detail"]


def test_readme_is_generated_for_built_ins_and_404_without_one(api):
    readme = api.get("/models/rshell/tinylm/readme")
    assert readme.headers["content-type"].startswith("text/plain")
    assert "# rshell/tinylm" in readme.text and "`prompt`" in readme.text
    api.post("/models", json={"owner": "sandbox", "name": "bare", "visibility": "private", "hardware": "cpu"})
    assert api.get("/models/sandbox/bare/readme").status_code == 404


def test_query_models_searches_names_and_descriptions(api):
    response = api.request("QUERY", "/models", content="stream", headers={"Content-Type": "text/plain"})
    assert response.status_code == 200
    assert "rshell/tinylm" in _names(response.json())
    nothing = api.request("QUERY", "/models", content="zebra-unicorn", headers={"Content-Type": "text/plain"})
    assert nothing.json() == {"next": None, "previous": None, "results": []}


def test_query_models_ignores_punctuation_around_words(api):
    """The JS client sends its query JSON-encoded (`"pixels"`, quotes included)."""
    quoted = api.request("QUERY", "/models", content='"pixels"', headers={"Content-Type": "text/plain"})
    assert "rshell/pixels" in _names(quoted.json())
    only = api.request("QUERY", "/models", content='"" ...', headers={"Content-Type": "text/plain"})
    assert only.json()["results"] == []  # nothing left to match: no model matches


def test_models_sort_by_created_ascending_and_descending(api):
    for name in ("aaa", "bbb"):
        api.post("/models", json={"owner": "sandbox", "name": name, "visibility": "private", "hardware": "cpu"})
    desc = [m["name"] for m in api.get("/models", params={"sort_by": "model_created_at"}).json()["results"]]
    asc = [
        m["name"]
        for m in api.get("/models", params={"sort_by": "model_created_at", "sort_direction": "asc"}).json()["results"]
    ]
    assert desc[:2] == ["bbb", "aaa"] and asc[-2:] == ["aaa", "bbb"]
    assert api.get("/models", params={"sort_by": "stars"}).status_code == 422


def test_pagination_follows_next_and_previous(api, monkeypatch):
    monkeypatch.setattr("rshell.sandbox.pagination.PAGE_SIZE", 2)
    seen, url, pages = [], "/models", []
    while url:
        page = api.get(url).json()
        pages.append(page)
        seen += [f"{m['owner']}/{m['name']}" for m in page["results"]]
        url = page["next"]
    assert [len(p["results"]) for p in pages] == [2, 2, 1]
    assert set(seen) == BUILTIN and len(seen) == len(BUILTIN)
    assert pages[0]["previous"] is None and pages[-1]["next"] is None
    back = api.get(pages[1]["previous"]).json()
    assert back["results"] == pages[0]["results"]
    assert api.get("/models", params={"cursor": "!!not-a-cursor"}).status_code == 400


def test_collections_and_get(api):
    listed = api.get("/collections").json()["results"]
    slugs = {c["slug"] for c in listed}
    assert {"sandbox-models", "text-to-image", "language-models"} <= slugs
    collection = api.get("/collections/language-models").json()
    assert {f"{m['owner']}/{m['name']}" for m in collection["models"]} == {"rshell/tinylm", "rshell/echo"}


def test_search_finds_models_and_collections(api):
    found = api.get("/search", params={"query": "image", "limit": 5}).json()
    assert found["query"] == "image"
    names = [f"{m['model']['owner']}/{m['model']['name']}" for m in found["models"]]
    assert "rshell/pixels" in names
    assert all(m["metadata"]["score"] > 0 for m in found["models"])
    assert {c["slug"] for c in found["collections"]} >= {"text-to-image"}
    assert api.get("/search").status_code == 400
    assert api.get("/search", params={"query": "x", "limit": 99}).status_code == 400


def test_official_python_client_base_url_with_v1_is_tolerated(api):
    assert api.get("/v1/account").json()["username"] == "sandbox"  # i.e. /v1/v1/account


def test_examples_are_the_models_succeeded_predictions(api):
    assert api.get("/models/rshell/echo/examples").json()["results"] == []
    done = api.post(
        "/models/rshell/echo/predictions", json={"input": {"text": "hey"}}, headers={"Prefer": "wait"}
    ).json()
    examples = api.get("/models/rshell/echo/examples").json()["results"]
    assert [e["id"] for e in examples] == [done["id"]]
    assert api.get("/models/rshell/echo").json()["default_example"]["id"] == done["id"]
    assert api.get("/models/rshell/echo").json()["run_count"] == 1


def test_tinylm_predictions_have_a_stream_url_and_image_predictions_none(api):
    """Issue 20: the official Go CLI streams whenever `urls.stream` is there, so an image
    model must not offer one (the real API gives it only to models that stream)."""
    pixels = api.get("/models/rshell/pixels").json()["latest_version"]["id"]
    image = api.post(
        "/predictions",
        json={"version": pixels, "input": {"prompt": "fox", "width": 16, "height": 16}},
        headers={"Prefer": "wait"},
    ).json()
    assert image["status"] == "succeeded" and "stream" not in image["urls"]
    assert "stream" not in api.get(f"/predictions/{image['id']}").json()["urls"]
    tinylm = api.get("/models/rshell/tinylm").json()
    ref = "/models/rshell/tinylm/predictions" if tinylm["is_official"] else "/predictions"
    body = {"input": {"prompt": "hi"}} | ({} if tinylm["is_official"] else {"version": tinylm["latest_version"]["id"]})
    text = api.post(ref, json=body, headers={"Prefer": "wait"}).json()
    assert text["urls"]["stream"].endswith(f"/v1/predictions/{text['id']}/stream")
    assert api.get(f"/predictions/{text['id']}").json()["urls"]["stream"] == text["urls"]["stream"]
