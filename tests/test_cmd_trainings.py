"""`training …` handlers against a respx-mocked API: the trainer's version and schema,
uploads, --destination, --wait polling, failures, Ctrl-C, list/show/cancel."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import api_fixtures as fx
import httpx
import pytest
import respx
from rsh import BASE, body_of, mocked

from rshell.commands.context import Result
from rshell.errors import Interrupted, RshellError, UsageError

TID = fx.TRAINING_ID
TRAINER = "ostris/flux-dev-lora-trainer"
TRAINER_VERSION = "d995297071a44dcb72244e6c19462111649ec86a9646c32df56daa7f14801944"


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


def mock_version(api) -> respx.Route:
    return api.get(f"{BASE}/models/{TRAINER}/versions/{TRAINER_VERSION}").respond(200, json=trainer_version())


def mock_create(api) -> respx.Route:
    return api.post(f"{BASE}/models/{TRAINER}/versions/{TRAINER_VERSION}/trainings")


def mock_trainer(api) -> tuple[respx.Route, respx.Route]:
    return mock_version(api), mock_create(api)


@pytest.fixture
def images(tmp_path):
    path = tmp_path / "data.zip"
    path.write_bytes(b"PK\x03\x04 zip bytes")
    return path


def test_create_uploads_files_and_returns_at_once(api, images, sleeps):
    version, create = mock_trainer(api)
    create.respond(201, json=fx.training("starting"))
    upload = api.post(f"{BASE}/files").respond(201, json=fx.file())
    ran = mocked(f"train {TRAINER}:{TRAINER_VERSION} --destination alice/my-lora input_images=@{images} steps=500")
    assert version.called and upload.called
    assert b"zip bytes" in upload.calls.last.request.content
    assert body_of(create) == {
        "destination": "alice/my-lora",
        "input": {"input_images": f"{BASE}/files/{fx.FILE_ID}", "steps": 500},
    }
    assert [call.request.method for call in api.calls] == ["GET", "POST", "POST"]  # no GET of the training
    assert not sleeps  # returned at once, no waiting on the training
    assert ran.code == 0 and ran.data["status"] == "starting"
    assert TID in ran.stdout and "alice/my-lora" in ran.stdout and "starting" in ran.stdout


def test_owner_name_trains_the_latest_version(api, images):
    model = fx.model("ostris", "flux-dev-lora-trainer", latest_version=trainer_version())
    api.get(f"{BASE}/models/{TRAINER}").respond(200, json=model)
    create = mock_create(api).respond(201, json=fx.training("starting"))  # the model carries its latest version
    api.post(f"{BASE}/files").respond(201, json=fx.file())
    assert mocked(f"training create {TRAINER} --destination alice/my-lora input_images=@{images}").code == 0
    assert create.called


def test_inputs_are_validated_against_the_training_schema_before_sending(api, images):
    mock_version(api)  # read for its schema; nothing is uploaded or created
    line = f"train {TRAINER}:{TRAINER_VERSION} --destination alice/my-lora"
    ran = mocked(f"{line} input_images=@{images} steps=1")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "steps" in ran.error.message
    ran = mocked(f"{line} steps=100")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "input_images" in ran.error.message
    ran = mocked(f"{line} input_images=@{images} prompt=hi")  # a predict() input is not a train() input
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "prompt" in ran.error.message
    assert {call.request.method for call in api.calls} == {"GET"}


def test_destination_and_reference_errors_send_nothing(api):
    ran = mocked(f"train {TRAINER}:{TRAINER_VERSION} steps=5")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "--destination" in ran.error.message
    ran = mocked(f"train {TRAINER}:{TRAINER_VERSION} --destination not-a-model steps=5")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "destination" in ran.error.message
    ran = mocked(f"train {TRAINER_VERSION} --destination alice/x steps=5")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "bare version id" in ran.error.message
    assert not api.calls


def test_model_without_versions_is_an_error(api):
    api.get(f"{BASE}/models/alice/empty").respond(200, json=fx.model("alice", "empty", latest_version=None))
    ran = mocked("train alice/empty --destination alice/x steps=5")
    assert ran.code == 1 and isinstance(ran.error, RshellError)
    assert "alice/empty has no version to train" in ran.error.message


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
    ran = mocked(f"train {TRAINER}:{TRAINER_VERSION} --destination alice/my-lora input_images=@{images} --wait")
    assert get.call_count == 3
    assert sleeps == pytest.approx([0.2, 0.3, 0.45], abs=0.05)  # less the time each request took
    assert ran.code == 0
    assert f"alice/my-lora:{fx.VERSION_ID}" in ran.stdout
    for line in ("step 1/3", "step 2/3", "step 3/3"):
        assert ran.stderr.count(line) == 1
        assert line not in ran.stdout  # already shown while waiting
    assert f"training {TID} succeeded in 1200.0s" in ran.stderr


def test_failed_training_is_not_ok(api, images, sleeps):
    _, create = mock_trainer(api)
    create.respond(201, json=fx.training("processing"))
    api.post(f"{BASE}/files").respond(201, json=fx.file())
    api.get(f"{BASE}/trainings/{TID}").respond(200, json=fx.training("failed"))
    ran = mocked(f"train {TRAINER}:{TRAINER_VERSION} --destination alice/my-lora input_images=@{images} --wait")
    assert ran.code == 1 and ran.data["status"] == "failed"
    assert ran.error.message == f"training {TID} failed: training diverged"


def test_ctrl_c_while_waiting_cancels_the_training(api, images, sleeps):
    _, create = mock_trainer(api)
    create.respond(201, json=fx.training("processing"))
    api.post(f"{BASE}/files").respond(201, json=fx.file())
    get = api.get(f"{BASE}/trainings/{TID}").respond(200, json=fx.training("processing"))
    cancel = api.post(f"{BASE}/trainings/{TID}/cancel").respond(200, json=fx.training("canceled"))
    line = f"train {TRAINER}:{TRAINER_VERSION} --destination alice/my-lora input_images=@{images} --wait"
    ran = mocked(line, interrupt_when=lambda: get.call_count >= 2)
    assert ran.code == 130 and isinstance(ran.error, Interrupted)
    assert cancel.called
    assert isinstance(ran.error.result, Result) and ran.error.result.data["status"] == "canceled"
    assert ran.data["status"] == "canceled"  # bound to `_` too
    assert f"canceled training {TID}" in ran.stderr


def test_ctrl_c_before_the_create_answered_finds_the_training_and_cancels_it(api, images):
    """No id came back yet: the newest training of this trainer version whose input
    holds the sent input is found and canceled (issue 19.1)."""
    mock_version(api)
    api.post(f"{BASE}/files").respond(201, json=fx.file())
    entered, sent = asyncio.Event(), {}

    async def held(request: httpx.Request) -> httpx.Response:
        sent.update(json.loads(request.content))
        entered.set()
        await asyncio.sleep(3600)
        return httpx.Response(201, json=fx.training("processing"))

    api.post(f"{BASE}/models/{TRAINER}/versions/{TRAINER_VERSION}/trainings", name="held").mock(side_effect=held)
    now = datetime.now(UTC).isoformat()

    def listing(request: httpx.Request) -> httpx.Response:
        other = fx.training("processing", training_id="other", created_at=now, input={"steps": 3})
        mine = fx.training("processing", created_at=now, input={**sent["input"], "steps": 1000})
        return httpx.Response(200, json=fx.page([other, mine]))

    api.get(f"{BASE}/trainings").mock(side_effect=listing)
    cancel = api.post(f"{BASE}/trainings/{TID}/cancel").respond(200, json=fx.training("canceled"))
    line = f"train {TRAINER}:{TRAINER_VERSION} --destination alice/my-lora input_images=@{images}"
    ran = mocked(line, interrupt_when=entered.is_set)
    api.pop("held")  # sent, but respx records a call only once answered
    assert ran.code == 130 and isinstance(ran.error, Interrupted)
    assert cancel.called and f"canceled training {TID}" in ran.stderr
    assert ran.data["status"] == "canceled"


def test_list_show_cancel(api, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    api.get(f"{BASE}/trainings").respond(
        200, json=fx.page([fx.training("succeeded"), fx.training("processing", training_id="t2")])
    )
    ran = mocked("training list")
    lines = ran.stdout.splitlines()
    assert lines[0].split() == ["ID", "MODEL", "STATUS", "CREATED_AT"]
    assert lines[1].split()[:3] == [TID, TRAINER, "succeeded"]
    assert lines[2].split()[:3] == ["t2", TRAINER, "processing"]
    assert [t["id"] for t in ran.data["results"]] == [TID, "t2"]

    api.get(f"{BASE}/trainings/{TID}").respond(200, json=fx.training("succeeded"))
    shown = mocked(f"t show {TID}")
    assert shown.data["output"]["version"] == f"alice/my-lora:{fx.VERSION_ID}"
    assert f"new version: alice/my-lora:{fx.VERSION_ID}" in shown.stdout.replace("  ", " ")
    assert "step 100/1000 loss=0.12" in shown.stdout  # show includes the logs tail

    cancel = api.post(f"{BASE}/trainings/{TID}/cancel").respond(200, json=fx.training("canceled"))
    canceled = mocked(f"training cancel {TID}")
    assert cancel.called and canceled.stdout == f"training {TID} canceled\n"
