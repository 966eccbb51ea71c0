"""Trainings: destination rules, a new runnable version, cancel; then the real
palette-trainer end to end (zip of PNGs → new rshell/pixels-style version)."""

from __future__ import annotations

import io
import zipfile

import httpx
from waits import Workers, wait_finished


def _finished(handle, client: httpx.Client, training_id: str) -> dict:
    """The training once it reached a terminal status (waits for its `done` event)."""
    wait_finished(handle, "trainings", training_id)
    return client.get(f"/trainings/{training_id}").json()


def _own_model(client: httpx.Client, name: str) -> None:
    response = client.post(
        "/models", json={"owner": "sandbox", "name": name, "visibility": "private", "hardware": "cpu"}
    )
    assert response.status_code == 201


def _trainer_url(client: httpx.Client, model: str) -> str:
    version = client.get(f"/models/{model}").json()["latest_version"]["id"]
    return f"/models/{model}/versions/{version}/trainings"


def test_training_creates_a_runnable_version_of_the_destination(fake):
    client = fake.client
    _own_model(client, "tuned")
    none_yet = client.post("/predictions", json={"version": "sandbox/tuned", "input": {"text": "x"}})
    assert none_yet.status_code == 422
    created = client.post(
        _trainer_url(client, "test/trainer"), json={"destination": "sandbox/tuned", "input": {"prefix": ">> "}}
    )
    assert created.status_code == 201
    assert created.json()["status"] == "starting"
    done = _finished(fake.handle, client, created.json()["id"])
    assert done["status"] == "succeeded", done.get("error")
    assert done["logs"] == "training 100%|\n"
    assert done["output"]["version"].startswith("sandbox/tuned:")
    new_version = done["output"]["version"].split(":")[1]
    assert httpx.get(done["output"]["weights"]).json() == {"prefix": ">> "}
    model = client.get("/models/sandbox/tuned").json()
    assert model["latest_version"]["id"] == new_version
    versions = client.get("/models/sandbox/tuned/versions").json()["results"]
    assert [v["id"] for v in versions] == [new_version]
    by_name = client.post("/models/sandbox/tuned/predictions", json={"input": {"text": "hi"}})
    assert by_name.status_code == 404  # a model of your own is not official: it runs by version
    ran = client.post(
        "/predictions", json={"version": new_version, "input": {"text": "hi"}}, headers={"Prefer": "wait"}
    ).json()
    assert ran["output"] == ">> hi" and ran["version"] == new_version
    assert [t["id"] for t in client.get("/trainings").json()["results"]] == [done["id"]]


def test_a_training_with_the_go_clients_version_field_is_accepted(fake):
    """Issue 20: the official Go client sends `{destination, input, version}`; the real
    API accepts it and the spec's training request does not forbid extra fields."""
    client = fake.client
    _own_model(client, "gone")
    url = _trainer_url(client, "test/trainer")
    version = url.split("/")[-2]
    created = client.post(url, json={"destination": "sandbox/gone", "input": {"prefix": "> "}, "version": version})
    assert created.status_code == 201, created.text
    assert _finished(fake.handle, client, created.json()["id"])["status"] == "succeeded"


def test_destination_must_exist_and_belong_to_the_caller(fake):
    client = fake.client
    url = _trainer_url(client, "test/trainer")
    missing = client.post(url, json={"destination": "sandbox/nowhere", "input": {"prefix": "a"}})
    assert missing.status_code == 404 and "sandbox/nowhere" in missing.json()["detail"]
    foreign = client.post(url, json={"destination": "test/echo", "input": {"prefix": "a"}})
    assert foreign.status_code == 403 and "belongs to test" in foreign.json()["detail"]
    assert client.post(url, json={"destination": "no-slash", "input": {"prefix": "a"}}).status_code == 422
    assert client.post(url, json={"input": {"prefix": "a"}}).status_code == 422
    assert client.get("/trainings").json()["results"] == []


def test_training_inputs_are_validated_and_untrainable_models_refused(fake):
    client = fake.client
    _own_model(client, "dest")
    url = _trainer_url(client, "test/trainer")
    bad = client.post(url, json={"destination": "sandbox/dest", "input": {"prefix": 5}})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("input.prefix")
    official = client.post(_trainer_url(client, "test/echo"), json={"destination": "sandbox/dest", "input": {}})
    assert official.status_code == 404  # an official model's versions are not addressable
    assert (
        client.post(
            "/models/test/trainer/versions/" + "0" * 64 + "/trainings",
            json={"destination": "sandbox/dest", "input": {}},
        ).status_code
        == 404
    )


def test_a_training_can_be_canceled(fake, monkeypatch):
    workers = Workers(monkeypatch)
    client = fake.client
    _own_model(client, "dest")
    created = client.post(
        _trainer_url(client, "test/trainer"), json={"destination": "sandbox/dest", "input": {"prefix": "slow"}}
    ).json()
    canceled = client.post(f"/trainings/{created['id']}/cancel")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    fake.gates["trainer"].open()  # too late: the canceled training must not make a version
    workers.wait(created["id"])  # the trainer has returned: had it made a version, it would be there
    assert client.get(f"/trainings/{created['id']}").json()["status"] == "canceled"
    assert client.get("/models/sandbox/dest/versions").json()["results"] == []


def test_a_trainer_that_ignores_cancel_still_makes_no_version(fake, monkeypatch):
    workers = Workers(monkeypatch)
    client = fake.client
    _own_model(client, "dest")
    created = client.post(
        _trainer_url(client, "test/trainer"), json={"destination": "sandbox/dest", "input": {"prefix": "deaf"}}
    ).json()
    assert fake.gates["trainer"].arrived()  # processing, inside the trainer
    assert client.post(f"/trainings/{created['id']}/cancel").json()["status"] == "canceled"
    fake.gates["trainer"].open()
    workers.wait(created["id"])  # the trainer has returned its weights, after the cancel
    assert client.get(f"/trainings/{created['id']}").json()["status"] == "canceled"
    assert client.get("/models/sandbox/dest/versions").json()["results"] == []


def _png(colour: tuple[int, int, int]) -> bytes:
    from rshell.sandbox.predictors.png import encode

    return encode(8, 8, [bytes(colour) * 8 for _ in range(8)])


def test_real_palette_trainer_makes_a_pixels_version(api, sandbox):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("red.png", _png((250, 10, 10)))
        zf.writestr("blue.png", _png((10, 10, 250)))
    upload = api.post("/files", files={"content": ("images.zip", archive.getvalue(), "application/zip")}).json()
    api.post("/models", json={"owner": "sandbox", "name": "my-pixels", "visibility": "private", "hardware": "cpu"})
    created = api.post(
        _trainer_url(api, "rshell/palette-trainer"),
        json={"destination": "sandbox/my-pixels", "input": {"input_images": upload["urls"]["get"], "steps": 2}},
    )
    assert created.status_code == 201, created.text
    done = _finished(sandbox, api, created.json()["id"])
    assert done["status"] == "succeeded", done.get("error")
    schema = api.get("/models/sandbox/my-pixels").json()["latest_version"]["openapi_schema"]
    assert "prompt" in schema["components"]["schemas"]["Input"]["properties"]
    ran = api.post(
        "/predictions",
        json={"version": done["output"]["version"], "input": {"prompt": "p", "width": 16, "height": 16}},
        headers={"Prefer": "wait"},
    ).json()
    assert ran["status"] == "succeeded", ran.get("error")


def test_an_untrainable_versioned_model_is_refused(api):
    api.post("/models", json={"owner": "sandbox", "name": "dest", "visibility": "private", "hardware": "cpu"})
    refused = api.post(_trainer_url(api, "rshell/pixels"), json={"destination": "sandbox/dest", "input": {}})
    assert refused.status_code == 422 and "not trainable" in refused.json()["detail"]


def test_version_delete_rules_then_model_delete(fake):
    client = fake.client
    _own_model(client, "temp")
    done = _finished(
        fake.handle,
        client,
        client.post(
            _trainer_url(client, "test/trainer"), json={"destination": "sandbox/temp", "input": {"prefix": "t"}}
        ).json()["id"],
    )
    version = done["output"]["version"].split(":")[1]
    assert client.delete("/models/sandbox/temp").status_code == 409  # it still has a version
    client.post(
        "/deployments",
        json={
            "name": "uses-it",
            "model": "sandbox/temp",
            "version": version,
            "hardware": "cpu",
            "min_instances": 0,
            "max_instances": 1,
        },
    )
    blocked = client.delete(f"/models/sandbox/temp/versions/{version}")
    assert blocked.status_code == 409 and "uses-it" in blocked.json()["detail"]
    client.delete("/deployments/sandbox/uses-it")
    assert client.delete(f"/models/sandbox/temp/versions/{version}").status_code == 202
    assert client.get(f"/models/sandbox/temp/versions/{version}").status_code == 404
    echo = client.get("/models/test/echo").json()["latest_version"]["id"]
    assert client.delete(f"/models/test/echo/versions/{echo}").status_code == 404  # official: no versions
    trainer = client.get("/models/test/trainer").json()["latest_version"]["id"]
    assert client.delete(f"/models/test/trainer/versions/{trainer}").status_code == 403  # not ours
    assert client.delete("/models/sandbox/temp").status_code == 204


def test_the_web_url_shows_the_run(fake):
    client = fake.client
    _own_model(client, "webbed")
    created = client.post(
        _trainer_url(client, "test/trainer"), json={"destination": "sandbox/webbed", "input": {"prefix": "w"}}
    ).json()
    page = httpx.get(created["urls"]["web"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert created["id"] in page.text and "test/trainer" in page.text
    assert httpx.get(fake.handle.root + "/p/unknown").status_code == 404
