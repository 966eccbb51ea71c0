"""The rendering functions the handlers of models, deployments, files, collections and
account return, called on API JSON directly; and the one-representation rule: what
holds a client's answer reads models, what reads a bound value reads JSON."""

from __future__ import annotations

import asyncio

from rshell.client.fields import json_run_kind
from rshell.client.models import Model, Prediction, Training, Version, parse
from rshell.commands.modelref import route_of_model
from rshell.commands.running import settle_in_flight
from rshell.rendering.account import hardware_table
from rshell.rendering.collections import collection_text, search_text
from rshell.rendering.deployments import deployment_fields, deployment_table
from rshell.rendering.files import file_fields
from rshell.rendering.models import example_table, version_table
from rshell.session.state import Session

HINT = "\n(next page: model versions o/n --cursor c)"


def test_versions_show_the_hint_under_the_table_and_none_when_empty() -> None:
    text = version_table("o/n", [{"id": "v1", "created_at": "2024-05-01T12:30:00Z", "cog_version": "0.9"}], HINT)
    assert text.splitlines()[1].split() == ["v1", "2024-05-01", "12:30", "0.9"]
    assert text.endswith(HINT)
    assert version_table("o/n", [], HINT) == "o/n has no versions"
    assert example_table("o/n", [], HINT) == "o/n has no examples"


def test_deployments_show_model_version_and_instances() -> None:
    deployment = {
        "owner": "acme",
        "name": "app",
        "current_release": {
            "number": 3,
            "model": "acme/m",
            "version": "a" * 64,
            "created_by": {"username": "ann"},
            "configuration": {"hardware": "gpu-t4", "min_instances": 0, "max_instances": 2},
        },
    }
    row = deployment_table([deployment]).splitlines()[1].split()
    assert row == ["acme/app", "3", "acme/m:" + "a" * 12, "gpu-t4", "0-2"]
    assert deployment_fields(deployment).splitlines()[-1].split() == ["released:", "ann"]
    assert deployment_table([]) == "no deployments"


def test_files_collections_search_and_hardware_read_the_json() -> None:
    shown = file_fields({"id": "f1", "size": 2048, "checksums": {"sha256": "abc"}, "urls": {"get": "https://x/f1"}})
    assert [line.split(maxsplit=1) for line in shown.splitlines()] == [
        ["id:", "f1"],
        ["size:", "2.0 KB (2048 bytes)"],
        ["sha256:", "abc"],
        ["url:", "https://x/f1"],
    ]
    text = collection_text({"name": "Upscalers", "slug": "up", "description": "Make\n  them big", "models": []})
    assert text.splitlines() == ["Upscalers (up)", "Make them big", "", "no models"]
    assert search_text({"query": "zz"}) == "nothing found for 'zz'"
    assert hardware_table([]) == "no hardware listed"
    assert hardware_table([{"sku": "cpu", "name": "CPU"}]).splitlines()[1].split() == ["cpu", "CPU"]


def test_run_kind_reads_bound_json_and_nothing_else() -> None:
    assert json_run_kind({"id": "p", "status": "starting", "input": {}}) == "prediction"
    assert json_run_kind({"id": "t", "status": "starting", "urls": {"get": "https://api/v1/trainings/t"}}) == "training"
    assert json_run_kind({"id": "t", "status": "starting", "urls": "not an object", "input": None}) is None
    assert json_run_kind(Prediction(id="p", input={"a": 1})) is None  # a model is never a bound value
    assert json_run_kind("p") is None and json_run_kind([{"id": "p", "status": "starting"}]) is None


def test_route_of_a_model_reads_its_latest_version() -> None:
    latest = Version(id="v" * 64, openapi_schema={"components": {}})
    route = route_of_model(Model(owner="o", name="n", is_official=False, latest_version=latest), "o/n")
    assert route.version == "v" * 64 and route.schema == {"components": {}}
    bare = route_of_model(Model(owner="o", name="n"), "o/n")
    assert bare.fallback and bare.latest is None and bare.schema is None


def test_settling_in_flight_runs_reads_the_models_the_client_returns() -> None:
    statuses = {"done": "succeeded", "busy": "processing", "t1": "canceled"}

    class Api:
        async def predictions_get(self, run_id: str) -> Prediction:
            return Prediction(id=run_id, status=statuses[run_id])

        async def trainings_get(self, run_id: str) -> Training:
            return parse(Training, {"id": run_id, "status": statuses[run_id], "destination": "o/n"})

    session = Session()
    session.in_flight = {"done": "prediction", "busy": "prediction", "t1": "training"}
    asyncio.run(settle_in_flight(session, Api()))  # type: ignore[arg-type]
    assert session.in_flight == {"busy": "prediction"}
