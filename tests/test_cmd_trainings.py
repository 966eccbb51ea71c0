"""`training …` handlers against a respx-mocked API: the trainer's version and schema,
uploads, --destination, --wait polling, failures, Ctrl-C, list/show/cancel."""

from __future__ import annotations

import api_fixtures as fx
import httpx
import pytest
import respx
from handler_support import BASE, Harness, body_of
from test_cmd_predictions import run_and_interrupt

from rshell.commands.context import Result
from rshell.errors import Interrupted, RshellError, UsageError

TID = fx.TRAINING_ID
TRAINER = "ostris/flux-dev-lora-trainer"
TRAINER_VERSION = "d995297071a44dcb72244e6c19462111649ec86a9646c32df56daa7f14801944"


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as router:
        yield router


def trainer_version() -> dict:
    """A trainer's version: Cog publishes its train() inputs as TrainingInput."""
    body = fx.version(TRAINER_VERSION)
    body["openapi_schema"]["components"]["schemas"]["TrainingInput"] = {
        "type": "object",
        "title": "TrainingInput",
        "required": ["input_images"],
        "properties": {
            "input_images": {"type": "string", "format": "uri", "x-order": 0},
            "steps": {"type": "integer", "default": 1000, "minimum": 3, "maximum": 6000, "x-order": 1},
            "trigger_word": {"type": "string", "default": "TOK", "x-order": 2},
        },
    }
    return body


def mock_trainer(api) -> tuple[respx.Route, respx.Route]:
    version = api.get(f"{BASE}/models/{TRAINER}/versions/{TRAINER_VERSION}").respond(200, json=trainer_version())
    create = api.post(f"{BASE}/models/{TRAINER}/versions/{TRAINER_VERSION}/trainings")
    return version, create


@pytest.fixture
def images(tmp_path):
    path = tmp_path / "data.zip"
    path.write_bytes(b"PK\x03\x04 zip bytes")
    return path


def test_create_uploads_files_and_returns_at_once(api, images, sleeps):
    version, create = mock_trainer(api)
    create.respond(201, json=fx.training("starting"))
    upload = api.post(f"{BASE}/files").respond(201, json=fx.file())
    get = api.get(f"{BASE}/trainings/{TID}").respond(200, json=fx.training("succeeded"))
    result = Harness().run(
        f"train {TRAINER}:{TRAINER_VERSION} --destination alice/my-lora input_images=@{images} steps=500"
    )
    assert version.called and upload.called
    assert b"zip bytes" in upload.calls.last.request.content
    assert body_of(create) == {
        "destination": "alice/my-lora",
        "input": {"input_images": f"{BASE}/files/{fx.FILE_ID}", "steps": 500},
    }
    assert not get.called and not sleeps
    assert result.ok and result.data["status"] == "starting"
    assert TID in result.text and "alice/my-lora" in result.text and "starting" in result.text


def test_owner_name_trains_the_latest_version(api, images):
    model = fx.model("ostris", "flux-dev-lora-trainer", latest_version=trainer_version())
    api.get(f"{BASE}/models/{TRAINER}").respond(200, json=model)
    _, create = mock_trainer(api)
    create.respond(201, json=fx.training("starting"))
    api.post(f"{BASE}/files").respond(201, json=fx.file())
    Harness().run(f"training create {TRAINER} --destination alice/my-lora input_images=@{images}")
    assert create.called


def test_inputs_are_validated_against_the_training_schema_before_sending(api, images):
    _, create = mock_trainer(api)
    create.respond(201, json=fx.training("starting"))
    upload = api.post(f"{BASE}/files").respond(201, json=fx.file())
    line = f"train {TRAINER}:{TRAINER_VERSION} --destination alice/my-lora"
    with pytest.raises(UsageError, match="steps"):
        Harness().run(f"{line} input_images=@{images} steps=1")
    with pytest.raises(UsageError, match="input_images"):
        Harness().run(f"{line} steps=100")
    with pytest.raises(UsageError, match="prompt"):  # a predict() input is not a train() input
        Harness().run(f"{line} input_images=@{images} prompt=hi")
    assert not create.called and not upload.called


def test_destination_and_reference_errors_send_nothing(api):
    with pytest.raises(UsageError, match="--destination"):
        Harness().run(f"train {TRAINER}:{TRAINER_VERSION} steps=5")
    with pytest.raises(UsageError, match="destination"):
        Harness().run(f"train {TRAINER}:{TRAINER_VERSION} --destination not-a-model steps=5")
    with pytest.raises(UsageError, match="bare version id"):
        Harness().run(f"train {TRAINER_VERSION} --destination alice/x steps=5")
    assert not api.calls


def test_model_without_versions_is_an_error(api):
    api.get(f"{BASE}/models/alice/empty").respond(200, json=fx.model("alice", "empty", latest_version=None))
    with pytest.raises(RshellError, match="alice/empty has no version to train"):
        Harness().run("train alice/empty --destination alice/x steps=5")


def test_wait_polls_until_succeeded_and_shows_the_new_version(api, images, sleeps):
    _, create = mock_trainer(api)
    create.respond(201, json=fx.training("starting"))
    api.post(f"{BASE}/files").respond(201, json=fx.file())
    states = [
        fx.training("processing", logs="step 1/3\n"),
        fx.training("processing", logs="step 1/3\nstep 2/3\n"),
        fx.training("succeeded", logs="step 1/3\nstep 2/3\nstep 3/3\n"),
    ]
    get = api.get(f"{BASE}/trainings/{TID}").mock(side_effect=[httpx.Response(200, json=s) for s in states])
    h = Harness()
    result = h.run(f"train {TRAINER}:{TRAINER_VERSION} --destination alice/my-lora input_images=@{images} --wait")
    assert get.call_count == 3
    assert sleeps == pytest.approx([0.2, 0.3, 0.45], abs=0.05)  # less the time each request took
    assert result.ok
    assert f"alice/my-lora:{fx.VERSION_ID}" in result.text
    for line in ("step 1/3", "step 2/3", "step 3/3"):
        assert h.err.count(line) == 1
        assert line not in result.text  # already shown while waiting
    assert f"training {TID} succeeded in 1200.0s" in h.err


def test_failed_training_is_not_ok(api, images, sleeps):
    _, create = mock_trainer(api)
    create.respond(201, json=fx.training("processing"))
    api.post(f"{BASE}/files").respond(201, json=fx.file())
    api.get(f"{BASE}/trainings/{TID}").respond(200, json=fx.training("failed"))
    result = Harness().run(
        f"train {TRAINER}:{TRAINER_VERSION} --destination alice/my-lora input_images=@{images} --wait"
    )
    assert result.ok is False
    assert result.error == f"training {TID} failed: training diverged"


def test_ctrl_c_while_waiting_cancels_the_training(api, images, sleeps):
    _, create = mock_trainer(api)
    create.respond(201, json=fx.training("processing"))
    api.post(f"{BASE}/files").respond(201, json=fx.file())
    get = api.get(f"{BASE}/trainings/{TID}").respond(200, json=fx.training("processing"))
    cancel = api.post(f"{BASE}/trainings/{TID}/cancel").respond(200, json=fx.training("canceled"))
    h = Harness()
    line = f"train {TRAINER}:{TRAINER_VERSION} --destination alice/my-lora input_images=@{images} --wait"
    error = run_and_interrupt(h, line, lambda: get.call_count >= 2)
    assert isinstance(error, Interrupted)
    assert cancel.called
    assert isinstance(error.result, Result) and error.result.data["status"] == "canceled"
    assert f"canceled training {TID}" in h.err


def test_list_show_cancel(api, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    api.get(f"{BASE}/trainings").respond(
        200, json=fx.page([fx.training("succeeded"), fx.training("processing", training_id="t2")])
    )
    result = Harness().run("training list")
    lines = result.text.splitlines()
    assert lines[0].split() == ["ID", "MODEL", "STATUS", "CREATED_AT"]
    assert lines[1].split()[:3] == [TID, TRAINER, "succeeded"]
    assert lines[2].split()[:3] == ["t2", TRAINER, "processing"]
    assert [t["id"] for t in result.data["results"]] == [TID, "t2"]

    api.get(f"{BASE}/trainings/{TID}").respond(200, json=fx.training("succeeded"))
    shown = Harness().run(f"t show {TID}")
    assert shown.data["output"]["version"] == f"alice/my-lora:{fx.VERSION_ID}"
    assert f"new version: alice/my-lora:{fx.VERSION_ID}" in shown.text.replace("  ", " ")
    assert "step 100/1000 loss=0.12" in shown.text  # show includes the logs tail

    cancel = api.post(f"{BASE}/trainings/{TID}/cancel").respond(200, json=fx.training("canceled"))
    canceled = Harness().run(f"training cancel {TID}")
    assert cancel.called and canceled.text == f"training {TID} canceled"
