"""The official `replicate` Python client, unchanged, against the sandbox's real
built-in models. Its httpx client gets our OpenAPI response hook (an ordinary httpx
option the official client passes through), so its traffic is checked too."""

from __future__ import annotations

import io
import json
import zipfile

import httpx
import pytest
import replicate
from openapi_check import hook
from replicate.exceptions import ModelError, ReplicateError
from waits import Workers, wait_event, wait_finished


@pytest.fixture
def client(sandbox):
    official = replicate.Client(api_token=sandbox.token, base_url=sandbox.url, event_hooks={"response": [hook]})
    official.poll_interval = 0.05
    return official


def _png(colour: tuple[int, int, int], size: int = 8) -> bytes:
    from rshell.sandbox.predictors.png import encode

    return encode(size, size, [bytes(colour) * size for _ in range(size)])


def test_base_url_without_v1_works_too(sandbox):
    official = replicate.Client(api_token=sandbox.token, base_url=sandbox.root, event_hooks={"response": [hook]})
    assert official.accounts.current().username == "sandbox"


def test_get_a_model_and_its_versions(client):
    model = client.models.get("rshell/pixels")
    assert model.owner == "rshell" and model.name == "pixels"
    assert model.latest_version is not None
    versions = model.versions.list()
    assert [v.id for v in versions] == [model.latest_version.id]
    assert "prompt" in model.latest_version.openapi_schema["components"]["schemas"]["Input"]["properties"]


def test_an_official_model_has_a_schema_but_no_versions_list(client):
    model = client.models.get("rshell/tinylm")
    assert "prompt" in model.latest_version.openapi_schema["components"]["schemas"]["Input"]["properties"]
    with pytest.raises(ReplicateError) as caught:
        model.versions.list()
    assert caught.value.status == 404


def test_run_by_name_of_a_versioned_model_fails_as_on_replicate(client):
    """replicate.run("owner/name") posts to the model endpoint, which only official
    models have: Replicate answers 404, and so does the sandbox; with :version it runs."""
    inputs = {"prompt": "dusk", "width": 16, "height": 16}
    with pytest.raises(ReplicateError) as caught:
        client.run("rshell/pixels", input=inputs)
    assert caught.value.status == 404
    assert caught.value.detail == "The requested resource could not be found."
    version = client.models.get("rshell/pixels").latest_version.id
    assert len(client.run(f"rshell/pixels:{version}", input=inputs)) == 1


def test_run_a_text_model(client):
    assert client.run("rshell/echo", input={"text": "hello", "times": 2}) == "hello hello"


def _versioned(client: replicate.Client, model: str) -> str:
    """`owner/name:version` of a model's latest version: what runs a versioned model."""
    return f"{model}:{client.models.get(model).latest_version.id}"


def _fetch(url: str) -> bytes:
    """Output files are http:// URLs on loopback; the official client only wraps https:
    URLs in FileOutput, so these come back as strings and we fetch them ourselves."""
    response = httpx.get(url)
    response.raise_for_status()
    return response.content


def test_run_by_version_and_read_file_outputs(client, sandbox):
    version = client.models.get("rshell/pixels").latest_version.id
    images = client.run(
        f"rshell/pixels:{version}", input={"prompt": "dusk", "width": 16, "height": 16, "num_outputs": 2}
    )
    assert len(images) == 2
    assert all(url.startswith(sandbox.root + "/delivery/") for url in images)
    assert all(_fetch(url).startswith(b"\x89PNG") for url in images)


def test_stream_tokens(client):
    events = list(client.stream("rshell/tinylm", input={"prompt": "the", "max_tokens": 6, "seed": 1}))
    text = "".join(str(e) for e in events)
    assert [e.event.value for e in events][-1] == "done"
    assert len(text.split()) == 6
    final = client.predictions.list().results[0]
    assert "".join(final.output) == text


def test_run_of_a_streaming_model_returns_its_tokens(client):
    tokens = client.run("rshell/tinylm", input={"prompt": "a", "max_tokens": 4, "seed": 3})
    assert len("".join(tokens).split()) == 4


def test_upload_a_file_input(client):
    data = _png((0, 200, 0))
    upload = client.files.create(io.BytesIO(data), filename="green.png")
    assert upload.size == len(data)
    output = client.run(_versioned(client, "rshell/upscale"), input={"image": io.BytesIO(data), "scale": 2})
    enlarged = _fetch(output)
    from rshell.sandbox.predictors.png import decode

    assert decode(enlarged).width == 16
    assert client.files.get(upload.id).checksums["sha256"] == upload.checksums["sha256"]
    assert len(client.files.list()) >= 2  # ours, and the one run() uploaded


def test_files_create_get_list_delete(client):
    """metadata goes as a form field here and as a JSON file part from the JS client
    (tests/test_js_client.py): the sandbox stores both, as Replicate does."""
    data = _png((0, 200, 0))
    created = client.files.create(io.BytesIO(data), filename="green.png", metadata={"purpose": "py-test", "n": 1})
    assert (created.name, created.content_type, created.size) == ("green.png", "image/png", len(data))
    assert created.metadata == {"purpose": "py-test", "n": 1}
    assert client.files.get(created.id).checksums == created.checksums
    assert [f.id for f in client.files.list()] == [created.id]
    client.files.delete(created.id)
    with pytest.raises(ReplicateError) as gone:
        client.files.get(created.id)
    assert gone.value.status == 404
    assert list(client.files.list()) == []


def test_model_errors_and_validation_errors(client):
    with pytest.raises(ReplicateError) as caught:
        client.run("rshell/echo", input={"text": "x", "times": 99})
    assert caught.value.status == 422 and "input.times" in caught.value.detail
    with pytest.raises(ReplicateError) as missing:
        client.models.get("rshell/missing")
    assert missing.value.status == 404
    with pytest.raises(ModelError):
        client.run(_versioned(client, "rshell/upscale"), input={"image": "data:image/png;base64,bm90IGEgcG5n"})


def test_train_into_a_model_of_your_own(client, sandbox):
    client.models.create(owner="sandbox", name="palette", visibility="private", hardware="cpu")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.png", _png((200, 30, 30)))
    archive.seek(0)
    trainer = client.models.get("rshell/palette-trainer").latest_version.id
    training = client.trainings.create(
        model="rshell/palette-trainer",
        version=trainer,
        input={"input_images": archive, "steps": 2},
        destination="sandbox/palette",
    )
    wait_finished(sandbox, "trainings", training.id)
    training.reload()
    assert training.status == "succeeded", training.error
    assert training.destination == "sandbox/palette"
    new_version = training.output["version"]
    assert client.models.get("sandbox/palette").latest_version.id == new_version.split(":")[1]
    image = client.run(new_version, input={"prompt": "x", "width": 16, "height": 16})
    first = image[0] if isinstance(image, list) else image
    assert _fetch(first).startswith(b"\x89PNG")


def test_create_and_use_a_deployment(client):
    version = client.models.get("rshell/pixels").latest_version.id
    deployment = client.deployments.create(
        name="echoer", model="rshell/pixels", version=version, hardware="cpu", min_instances=0, max_instances=1
    )
    assert deployment.current_release.number == 1
    prediction = deployment.predictions.create(input={"prompt": "via deployment", "width": 16, "height": 16})
    prediction.wait()
    assert prediction.status == "succeeded" and _fetch(prediction.output[0]).startswith(b"\x89PNG")
    updated = client.deployments.update("sandbox", "echoer", max_instances=3)
    assert updated.current_release.number == 2
    assert updated.current_release.configuration.max_instances == 3
    assert [d.name for d in client.deployments.list().results] == ["echoer"]
    assert client.deployments.delete("sandbox", "echoer") is True


def test_paginate(client, monkeypatch):
    monkeypatch.setattr("rshell.sandbox.pagination.PAGE_SIZE", 2)
    pages = list(replicate.pagination.paginate(client.models.list))
    names = [f"{m.owner}/{m.name}" for page in pages for m in page.results]
    assert len(pages) == 3 and len(set(names)) == 5


def test_cancel_a_running_prediction(client, sandbox, monkeypatch):
    workers = Workers(monkeypatch)
    prediction = client.predictions.create(model="rshell/tinylm", input={"prompt": "go", "max_tokens": 512})
    wait_event(sandbox, "predictions", prediction.id, "output")  # streaming: the first token is out
    prediction.reload()
    assert prediction.status == "processing"
    prediction.cancel()
    prediction.reload()
    assert prediction.status == "canceled"
    workers.wait(prediction.id)  # the model has noticed and returned: nothing it does can change the run now
    prediction.reload()
    assert prediction.status == "canceled"
    assert len(prediction.output or []) < 512


def test_a_webhook_from_the_sandbox_passes_the_clients_validate(client):
    """The JS client's validateWebhook is held to the same (tests/test_js_client.py)."""
    from replicate.webhook import InvalidSignatureError, Webhooks
    from waits import HANG, webhook_receiver

    with webhook_receiver() as hooks:
        prediction = client.predictions.create(
            model="rshell/echo", input={"text": "hook"}, webhook=hooks.url, webhook_events_filter=["completed"]
        )
        assert hooks.arrived.wait(HANG)
    [(headers, raw)] = hooks.received
    body = raw.decode()
    secret = client.webhooks.default.secret()
    Webhooks.validate(headers=headers, body=body, secret=secret)  # raises when it does not match
    with pytest.raises(InvalidSignatureError):
        Webhooks.validate(headers=headers, body=body + " ", secret=secret)
    delivered = json.loads(body)
    assert (delivered["id"], delivered["status"], delivered["output"]) == (prediction.id, "succeeded", "hook")
