"""`deployments …` handlers against a respx-mocked API."""

from __future__ import annotations

import api_fixtures as fx
import pytest
from rsh import body_of, mocked

from rshell.errors import ApiError, RshellError, UsageError

OTHER_VERSION = "f" * 64


def test_list_shows_release_model_hardware_and_instances(api, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")  # room for one row a line: narrower, the rows stack
    api.get("/deployments").respond(200, json=fx.page([fx.deployment(), fx.deployment(name="other")]))
    ran = mocked("deployments list")
    header, first, second = ran.stdout.splitlines()
    assert header.split() == ["DEPLOYMENT", "RELEASE", "MODEL", "HARDWARE", "INSTANCES"]
    assert first.split() == [
        "alice/my-app-image-generator",
        "1",
        f"stability-ai/sdxl:{fx.VERSION_ID[:12]}",
        "gpu-t4",
        "1-5",
    ]
    assert second.split()[0] == "alice/other"
    assert ran.data["results"][0]["current_release"]["number"] == 1


def test_list_when_there_are_none(api):
    api.get("/deployments").respond(200, json=fx.page([]))
    assert mocked("d list").stdout == "no deployments\n"


def test_show_prints_labelled_lines(api):
    api.get("/deployments/alice/my-app").respond(200, json=fx.deployment(name="my-app"))
    ran = mocked("deployments show alice/my-app")
    lines = dict(line.split(":", 1) for line in ran.stdout.splitlines())
    assert lines["deployment"].strip() == "alice/my-app"
    assert lines["version"].strip() == fx.VERSION_ID
    assert lines["instances"].strip() == "1-5"
    assert lines["released"].strip() == "2024-02-15 16:32 by alice"


def test_create_deploys_the_models_latest_version_on_cpu_by_default(api):
    api.get("/models/stability-ai/sdxl").respond(200, json=fx.model())
    route = api.post("/deployments").respond(200, json=fx.deployment(name="my-app"))
    ran = mocked("deployments create my-app --model stability-ai/sdxl")
    assert body_of(route) == {
        "name": "my-app",
        "model": "stability-ai/sdxl",
        "version": fx.VERSION_ID,
        "hardware": "cpu",
        "min_instances": 0,
        "max_instances": 1,
    }
    assert ran.stdout.splitlines()[0] == "created deployment (hardware cpu, instances 0-1)"  # the defaults, said
    assert ran.data["owner"] == "alice"


def test_create_of_an_official_model_is_refused_before_sending(api):
    """Official models run by name; their version ids are refused, so nothing to deploy."""
    api.get("/models/meta/llama").respond(200, json=fx.model("meta", "llama", llm=True, is_official=True))
    ran = mocked("deployments create my-app --model meta/llama")
    assert ran.code == 1 and isinstance(ran.error, RshellError)
    assert "meta/llama is an official model" in ran.error.message
    assert "run meta/llama" in (ran.error.hint or "")
    assert not any(call.request.method == "POST" for call in api.calls)


def test_create_of_a_model_of_unknown_kind_deploys_its_latest_version(api):
    body = fx.model()
    del body["is_official"]
    api.get("/models/stability-ai/sdxl").respond(200, json=body)
    route = api.post("/deployments").respond(200, json=fx.deployment(name="my-app"))
    assert mocked("deployments create my-app --model stability-ai/sdxl").code == 0
    assert body_of(route)["version"] == fx.VERSION_ID


def test_create_with_every_flag_sends_them_and_skips_the_model_lookup(api):
    route = api.post("/deployments").respond(200, json=fx.deployment())
    ran = mocked(
        f"deployments create my-app --model stability-ai/sdxl --version {OTHER_VERSION}"
        " --hardware gpu-t4 --min-instances 1 --max-instances 3"
    )
    assert ran.code == 0 and [call.request.method for call in api.calls] == ["POST"]  # no model lookup
    assert body_of(route) == {
        "name": "my-app",
        "model": "stability-ai/sdxl",
        "version": OTHER_VERSION,
        "hardware": "gpu-t4",
        "min_instances": 1,
        "max_instances": 3,
    }


def test_create_with_an_owner_checks_it_is_the_account(api):
    api.get("/account").respond(200, json=fx.account())
    ran = mocked(f"deployments create bob/my-app --model stability-ai/sdxl --version {OTHER_VERSION}")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "alice" in ran.error.message
    assert not any(call.request.method == "POST" for call in api.calls)


def test_create_with_the_accounts_own_owner_sends_just_the_name(api):
    api.get("/account").respond(200, json=fx.account())
    route = api.post("/deployments").respond(200, json=fx.deployment())
    assert mocked(f"deployments create alice/my-app --model stability-ai/sdxl --version {OTHER_VERSION}").code == 0
    assert body_of(route)["name"] == "my-app"


def test_create_of_a_model_without_versions_sends_nothing(api):
    api.get("/models/alice/empty").respond(200, json=fx.model("alice", "empty", latest_version=None))
    ran = mocked("deployments create my-app --model alice/empty")
    assert ran.code == 1 and isinstance(ran.error, RshellError)
    assert "alice/empty has no version to deploy" in ran.error.message
    assert "--version" in (ran.error.hint or "")
    assert not any(call.request.method == "POST" for call in api.calls)


def test_create_422_surfaces_the_problem_detail(api):
    api.post("/deployments").respond(
        422,
        json=fx.problem(422, "hardware: gpu-z is not a valid SKU"),
        headers={"content-type": "application/problem+json"},
    )
    ran = mocked(f"deployments create my-app --model a/b --version {OTHER_VERSION} --hardware gpu-z")
    assert ran.code == 1 and isinstance(ran.error, ApiError)
    assert ran.error.status == 422
    assert "gpu-z is not a valid SKU" in ran.error.message


@pytest.mark.parametrize(
    "line, message",
    [
        ("deployments create my-app --model a/b --max-instances 99", "--max-instances must be at most 20, got 99"),
        ("deployments update me/app --min-instances 6", "--min-instances must be at most 5, got 6"),
    ],
)
def test_instances_outside_the_spec_limits_send_nothing(api, line, message):
    ran = mocked(line)
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert ran.error.exit_code == 2 and message in ran.error.message
    assert not api.calls


@pytest.mark.parametrize(
    "line",
    [
        "deployments create my-app --model nope",
        "deployments create 'bad name' --model a/b",
        "deployments create my-app --model a/b --min-instances 3 --max-instances 2",
        "deployments create my-app --model a/b --min-instances -1",
        "deployments create my-app --model a/b --max-instances lots",
        "deployments create my-app",
    ],
)
def test_invalid_create_is_a_usage_error_with_no_request(api, line):
    ran = mocked(line)
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert api.calls.call_count == 0


def test_update_sends_only_the_flags_given(api):
    route = api.patch("/deployments/alice/my-app").respond(200, json=fx.deployment(name="my-app"))
    ran = mocked("deployments update alice/my-app --max-instances 10")
    assert body_of(route) == {"max_instances": 10}
    assert ran.stdout.splitlines()[0] == "updated deployment"


def test_update_with_version_and_hardware(api):
    route = api.patch("/deployments/alice/my-app").respond(200, json=fx.deployment(name="my-app"))
    line = f"deployments update alice/my-app --version {OTHER_VERSION} --hardware gpu-l40s --min-instances 0"
    assert mocked(line).code == 0
    assert body_of(route) == {"version": OTHER_VERSION, "hardware": "gpu-l40s", "min_instances": 0}


def test_update_without_flags_is_a_usage_error_with_no_request(api):
    ran = mocked("deployments update alice/my-app")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "--max-instances" in (ran.error.hint or "")
    assert api.calls.call_count == 0


def test_update_of_a_missing_deployment_is_a_404(api):
    api.patch("/deployments/alice/gone").respond(404, json=fx.problem(404, "Deployment not found"))
    ran = mocked("deployments update alice/gone --max-instances 2")
    assert ran.code == 1 and isinstance(ran.error, ApiError)
    assert ran.error.status == 404


def test_schema_shows_the_current_release_version(api):
    api.get("/deployments/alice/my-app").respond(200, json=fx.deployment(name="my-app"))
    version_route = api.get(f"/models/stability-ai/sdxl/versions/{fx.VERSION_ID}").respond(200, json=fx.version())
    ran = mocked("deployments schema alice/my-app")
    assert version_route.called
    lines = ran.stdout.splitlines()
    assert lines[0] == f"deployment alice/my-app (version {fx.VERSION_ID[:12]})"
    assert lines[2].split()[0] == "prompt*"
    assert ran.data["components"]["schemas"]["Input"]["required"] == ["prompt"]


def test_schema_of_a_deployment_without_a_release(api):
    api.get("/deployments/alice/new").respond(200, json=fx.deployment(name="new", current_release=None))
    ran = mocked("deployments schema alice/new")
    assert ran.code == 1 and isinstance(ran.error, RshellError)
    assert "no release" in ran.error.message


def test_delete(api):
    route = api.delete("/deployments/alice/my-app").respond(204)
    ran = mocked("deployments delete alice/my-app")
    assert route.called
    assert ran.stdout == "deleted deployment alice/my-app\n"
