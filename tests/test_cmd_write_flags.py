"""Flags for the spec's parameters no command exposed before: --webhook-events,
--cancel-after, files upload --metadata/--filename/--content-type, and deployments
named as the Go CLI names them ([owner/]name, --model owner/name:version)."""

from __future__ import annotations

import json

import api_fixtures as fx
import pytest
import respx
from rsh import body_of, mocked

from rshell.errors import UsageError

V = fx.VERSION_ID
OTHER = "f" * 64


def version_run(api) -> respx.Route:
    api.get(f"/models/stability-ai/sdxl/versions/{V}").respond(200, json=fx.version())
    return api.post("/predictions").respond(201, json=fx.prediction())


# predictions and trainings -------------------------------------------------------------


def test_webhook_events_and_cancel_after_reach_the_request(api):
    create = version_run(api)
    ran = mocked(
        f"run stability-ai/sdxl:{V} prompt=hi --webhook https://h/x"
        " --webhook-events start,completed --cancel-after 1h30m"
    )
    assert ran.code == 0
    body = body_of(create)
    assert body["webhook"] == "https://h/x" and body["webhook_events_filter"] == ["start", "completed"]
    assert create.calls.last.request.headers["Cancel-After"] == "1h30m"


def test_no_cancel_after_sends_no_header(api):
    create = version_run(api)
    assert mocked(f"run stability-ai/sdxl:{V} prompt=hi").code == 0
    assert "Cancel-After" not in create.calls.last.request.headers
    assert "webhook_events_filter" not in body_of(create)


@pytest.mark.parametrize(
    "flags, message",
    [
        ("--cancel-after soon", "--cancel-after: cannot read duration 'soon'"),
        ("--cancel-after 4s", "--cancel-after: the minimum duration is 5 seconds"),
        ("--webhook-events start,finish", "unknown value 'finish' for --webhook-events"),
        ("--webhook-events ,", "--webhook-events needs a comma-separated list"),
    ],
)
def test_bad_durations_and_events_send_nothing(api, flags, message):
    ran = mocked(f"run stability-ai/sdxl:{V} prompt=hi {flags}")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert ran.error.exit_code == 2 and message in ran.error.message
    assert not api.calls


def test_stream_takes_cancel_after_too(api):
    create = version_run(api)
    assert mocked(f"stream stability-ai/sdxl:{V} prompt=hi --cancel-after 30s --no-wait").code == 0
    assert create.calls.last.request.headers["Cancel-After"] == "30s"


def test_training_takes_webhook_events(api):
    api.get(f"/models/a/trainer/versions/{V}").respond(200, json=fx.version())
    create = api.post(f"/models/a/trainer/versions/{V}/trainings").respond(201, json=fx.training("starting"))
    assert mocked(f"train a/trainer:{V} --destination me/out --webhook https://h --webhook-events completed").code == 0
    assert body_of(create)["webhook_events_filter"] == ["completed"]


# files upload ----------------------------------------------------------------------------


def test_upload_sends_metadata_filename_and_type(api, tmp_path):
    path = tmp_path / "photo.bin"
    path.write_bytes(b"bytes")
    route = api.post("/files").respond(201, json=fx.file())
    flags = """--metadata '{"run": 7}' --filename pic.png --content-type image/png"""
    assert mocked(f"files upload {path} {flags}").code == 0
    content = route.calls.last.request.content
    assert b'name="metadata"\r\n\r\n{"run": 7}' in content
    assert b'name="filename"\r\n\r\npic.png' in content
    assert b'name="type"\r\n\r\nimage/png' in content


@pytest.mark.parametrize(
    "flags, message",
    [
        ("--metadata '[1]'", "--metadata needs a JSON object"),
        ("--metadata nope", "--metadata needs a JSON object"),
        (f"--filename {'n' * 256}", "--filename at most 255 characters"),
    ],
)
def test_bad_upload_fields_send_nothing(api, tmp_path, flags, message):
    path = tmp_path / "a.txt"
    path.write_text("x")
    ran = mocked(f"files upload {path} {flags}")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert message in ran.error.message and not api.calls


# deployments, Go CLI style -------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, method, path",
    [
        ("deployments show my-app", "GET", "/deployments/alice/my-app"),
        ("deployments schema my-app", "GET", "/deployments/alice/my-app"),
        ("deployments update my-app --max-instances 3", "PATCH", "/deployments/alice/my-app"),
        ("deployments delete my-app", "DELETE", "/deployments/alice/my-app"),
    ],
)
def test_a_name_without_owner_is_the_accounts(api, line, method, path):
    account = api.get("/account").respond(200, json=fx.account(username="alice"))
    target = api.route(method=method, path=path).respond(200, json=fx.deployment(name="my-app"))
    if " schema " in line:  # the schema is the current release's version's
        api.get(f"/models/stability-ai/sdxl/versions/{V}").respond(200, json=fx.version())
    assert mocked(line).code == 0
    assert account.called and target.called


def test_a_name_with_owner_asks_no_account(api):
    api.get("/deployments/bob/app").respond(200, json=fx.deployment("bob", "app"))
    assert mocked("deployments show bob/app").code == 0
    assert [call.request.url.path for call in api.calls] == ["/v1/deployments/bob/app"]  # no /account


def test_create_takes_the_version_from_model_owner_name_version(api):
    create = api.post("/deployments").respond(200, json=fx.deployment(name="my-app"))
    assert mocked(f"deployments create my-app --model acme/sdxl:{OTHER} --hardware gpu-t4").code == 0
    assert [call.request.method for call in api.calls] == ["POST"]  # the version is given: no look-up of the latest
    assert body_of(create) == {
        "name": "my-app",
        "model": "acme/sdxl",
        "version": OTHER,
        "hardware": "gpu-t4",
        "min_instances": 0,
        "max_instances": 1,
    }


def test_create_with_model_and_version_flag_as_owner_name_id(api):
    create = api.post("/deployments").respond(200, json=fx.deployment(name="my-app"))
    assert mocked(f"deployments create my-app --model acme/sdxl --version acme/sdxl:{OTHER}").code == 0
    assert body_of(create)["version"] == OTHER


@pytest.mark.parametrize(
    "flags, message",
    [
        (f"--model acme/sdxl:{OTHER} --version {V}", "name different versions"),
        (f"--model acme/sdxl --version other/model:{OTHER}", "is a version of other/model, not of --model acme/sdxl"),
        ("--model nonsense", "expected owner/name[:version]"),
    ],
)
def test_create_model_and_version_that_disagree_send_nothing(api, flags, message):
    ran = mocked(f"deployments create my-app {flags}")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert message in ran.error.message and not api.calls


def test_update_takes_the_id_from_version_owner_name_id(api):
    route = api.patch("/deployments/alice/my-app").respond(200, json=fx.deployment(name="my-app"))
    assert mocked(f"deployments update alice/my-app --version acme/sdxl:{OTHER}").code == 0
    assert body_of(route) == {"version": OTHER}


def test_update_with_nothing_to_change_asks_no_account(api):
    ran = mocked("deployments update my-app")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "--version ID" in (ran.error.hint or "") and not api.calls


def test_json_of_metadata_round_trips():
    """The --metadata value is the parsed object, not its text."""
    from rshell.commands import catalog
    from rshell.commands.arguments import parse_args

    command = catalog.BY_PATH[("files", "upload")]
    args = parse_args(command, ["x", "--metadata", json.dumps({"a": [1, 2]})])
    assert args.metadata == {"a": [1, 2]}
