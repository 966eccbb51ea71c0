"""ReplicateClient operations: method, path, body and parsing of each, against respx
mocks answering with spec-shaped bodies (nothing leaves the machine)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import api_fixtures as fx
import httpx
import pytest
import respx

import rshell
from rshell.client.api import ReplicateClient
from rshell.client.models import Deployment, Model, Page, Prediction, Training, Version, parse
from rshell.errors import UsageError

T = TypeVar("T")
BASE = fx.BASE
TOKEN = "r8_fake-clienttesttoken"


def run(make: Callable[[ReplicateClient], Awaitable[T]], base_url: str = BASE, token: str | None = TOKEN) -> T:
    async def main() -> T:
        async with ReplicateClient(token, base_url, max_retries=0) as client:
            return await make(client)

    return asyncio.run(main())


def body_of(route: respx.Route) -> Any:
    return json.loads(route.calls.last.request.content)


# ------------------------------------------------------------------ headers and base URL


@pytest.mark.parametrize(
    "given",
    [
        "http://127.0.0.1:8000",
        "http://127.0.0.1:8000/",
        "http://127.0.0.1:8000/v1",
        "http://127.0.0.1:8000/v1/",
    ],
)
def test_base_url_forms_all_reach_v1(given: str) -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get("http://127.0.0.1:8000/v1/account").respond(200, json=fx.account())
        account = run(lambda c: c.account_get(), base_url=given)
    assert account.username == "alice"
    assert route.called


def test_base_url_attribute_is_normalised() -> None:
    client = ReplicateClient(TOKEN, "http://127.0.0.1:8000/")
    assert client.base_url == "http://127.0.0.1:8000/v1"
    asyncio.run(client.aclose())


def test_bearer_token_and_user_agent_sent() -> None:
    with respx.mock() as mock:
        route = mock.get(f"{BASE}/account").respond(200, json=fx.account())
        run(lambda c: c.account_get())
    headers = route.calls.last.request.headers
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["User-Agent"] == f"rshell/{rshell.__version__}"


def test_repr_hides_token() -> None:
    client = ReplicateClient(TOKEN, BASE)
    assert TOKEN not in repr(client)
    assert TOKEN not in repr(client._http.auth)
    asyncio.run(client.aclose())


def test_path_segments_are_escaped() -> None:
    with respx.mock() as mock:
        route = mock.get(f"{BASE}/predictions/a%2F..%2Fb").respond(200, json=fx.prediction())
        run(lambda c: c.predictions_get("a/../b"))
    assert route.called


# ----------------------------------------------------------------- account, hardware


def test_account_get() -> None:
    with respx.mock() as mock:
        mock.get(f"{BASE}/account").respond(200, json=fx.account(type="organization"))
        account = run(lambda c: c.account_get())
    assert (account.type, account.username) == ("organization", "alice")


def test_hardware_list() -> None:
    with respx.mock() as mock:
        mock.get(f"{BASE}/hardware").respond(200, json=fx.hardware_list())
        hardware = run(lambda c: c.hardware_list())
    assert [h.sku for h in hardware][:2] == ["cpu", "gpu-t4"]


def test_webhooks_default_secret_get() -> None:
    with respx.mock() as mock:
        mock.get(f"{BASE}/webhooks/default/secret").respond(200, json={"key": "whsec_abc"})
        assert run(lambda c: c.webhooks_default_secret_get()) == {"key": "whsec_abc"}


# -------------------------------------------------------------------------- models


def test_models_get_parses_latest_version_schema() -> None:
    with respx.mock() as mock:
        mock.get(f"{BASE}/models/stability-ai/sdxl").respond(200, json=fx.model())
        model = run(lambda c: c.models_get("stability-ai", "sdxl"))
    assert isinstance(model, Model) and model.full_name == "stability-ai/sdxl"
    assert model.latest_version is not None
    schema = model.latest_version.input_schema()
    assert schema is not None and schema["properties"]["prompt"]["x-order"] == 0
    assert model.as_json()["latest_version"]["id"] == fx.VERSION_ID


def test_models_list_with_cursor_and_sort() -> None:
    with respx.mock() as mock:
        route = mock.get(f"{BASE}/models").respond(200, json=fx.page([fx.model()]))
        page = run(lambda c: c.models_list("abc", sort_by="model_created_at"))
    assert route.calls.last.request.url.params["cursor"] == "abc"
    assert route.calls.last.request.url.params["sort_by"] == "model_created_at"
    assert page.results[0].name == "sdxl"


def test_models_list_accepts_a_full_next_url_as_cursor() -> None:
    with respx.mock() as mock:
        route = mock.get(f"{BASE}/models", params={"cursor": "xyz"}).respond(200, json=fx.page([]))
        run(lambda c: c.models_list(f"{BASE}/models?cursor=xyz"))
    assert route.called


def test_models_search_sends_query_method_with_text_body() -> None:
    with respx.mock() as mock:
        route = mock.route(method="QUERY", url=f"{BASE}/models").respond(200, json=fx.page([fx.model()]))
        page = run(lambda c: c.models_search("hot dog"))
    request = route.calls.last.request
    assert request.method == "QUERY"
    assert request.content == b"hot dog"
    assert request.headers["Content-Type"] == "text/plain"
    assert page.results[0].owner == "stability-ai"


def test_models_create_body() -> None:
    with respx.mock() as mock:
        route = mock.post(f"{BASE}/models").respond(201, json=fx.model("alice", "hot-dog"))
        model = run(
            lambda c: c.models_create(
                "alice", "hot-dog", visibility="private", hardware="cpu", description="hd", paper_url=None
            )
        )
    assert body_of(route) == {
        "owner": "alice",
        "name": "hot-dog",
        "visibility": "private",
        "hardware": "cpu",
        "description": "hd",
    }
    assert model.name == "hot-dog"


def test_models_update_is_patch_with_given_fields_only() -> None:
    with respx.mock() as mock:
        route = mock.patch(f"{BASE}/models/alice/hot-dog").respond(200, json=fx.model("alice", "hot-dog"))
        run(lambda c: c.models_update("alice", "hot-dog", readme="# hi", github_url=None))
    assert body_of(route) == {"readme": "# hi"}


def test_models_delete_204() -> None:
    with respx.mock() as mock:
        route = mock.delete(f"{BASE}/models/alice/hot-dog").respond(204)
        assert run(lambda c: c.models_delete("alice", "hot-dog")) is None
    assert route.called


def test_models_readme_get_returns_text() -> None:
    with respx.mock() as mock:
        mock.get(f"{BASE}/models/alice/hot-dog/readme").respond(
            200, text="# Hot dog\n", headers={"Content-Type": "text/plain"}
        )
        assert run(lambda c: c.models_readme_get("alice", "hot-dog")) == "# Hot dog\n"


def test_models_examples_list() -> None:
    with respx.mock() as mock:
        mock.get(f"{BASE}/models/alice/hot-dog/examples").respond(200, json=fx.page([fx.prediction()]))
        page = run(lambda c: c.models_examples_list("alice", "hot-dog"))
    assert isinstance(page.results[0], Prediction)


def test_models_versions_list_get_delete() -> None:
    with respx.mock() as mock:
        mock.get(f"{BASE}/models/a/b/versions").respond(200, json=fx.page([fx.version()]))
        mock.get(f"{BASE}/models/a/b/versions/{fx.VERSION_ID}").respond(200, json=fx.version(llm=True))
        deleted = mock.delete(f"{BASE}/models/a/b/versions/{fx.VERSION_ID}").respond(202)

        async def calls(c: ReplicateClient) -> tuple[Page[Version], Version, None]:
            return (
                await c.models_versions_list("a", "b"),
                await c.models_versions_get("a", "b", fx.VERSION_ID),
                await c.models_versions_delete("a", "b", fx.VERSION_ID),
            )

        page, version, gone = run(calls)
    assert page.results[0].id == fx.VERSION_ID
    output = version.output_schema()
    assert output is not None and output["x-cog-array-display"] == "concatenate"
    assert gone is None and deleted.called


# --------------------------------------------------------------------- predictions


def test_prediction_on_model_endpoint_with_prefer_wait() -> None:
    with respx.mock() as mock:
        route = mock.post(f"{BASE}/models/stability-ai/sdxl/predictions").respond(201, json=fx.prediction())
        prediction = run(lambda c: c.predictions_create({"prompt": "hi"}, model="stability-ai/sdxl", wait=True))
    request = route.calls.last.request
    assert request.headers["Prefer"] == "wait"
    assert body_of(route) == {"input": {"prompt": "hi"}}
    assert prediction.status == "succeeded" and prediction.is_terminal


def test_prediction_wait_seconds_header_and_stream_flag() -> None:
    with respx.mock() as mock:
        route = mock.post(f"{BASE}/models/a/b/predictions").respond(201, json=fx.prediction("starting"))
        run(lambda c: c.predictions_create({"p": 1}, model="a/b", wait=5, stream=True, webhook="https://x.test/h"))
    assert route.calls.last.request.headers["Prefer"] == "wait=5"
    assert body_of(route) == {"input": {"p": 1}, "stream": True, "webhook": "https://x.test/h"}


def test_prediction_without_wait_sends_no_prefer() -> None:
    with respx.mock() as mock:
        route = mock.post(f"{BASE}/models/a/b/predictions").respond(201, json=fx.prediction("starting"))
        run(lambda c: c.predictions_create({}, model="a/b"))
    assert "Prefer" not in route.calls.last.request.headers


def test_prediction_wait_out_of_range_is_usage_error_before_sending() -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(f"{BASE}/models/a/b/predictions").respond(201, json=fx.prediction())
        with pytest.raises(UsageError):
            run(lambda c: c.predictions_create({}, model="a/b", wait=61))
    assert not route.called


def test_prediction_on_version_posts_predictions_with_version_id() -> None:
    with respx.mock() as mock:
        route = mock.post(f"{BASE}/predictions").respond(202, json=fx.prediction("processing"))
        prediction = run(lambda c: c.predictions_create({"prompt": "x"}, version=f"a/b:{fx.VERSION_ID}"))
    assert body_of(route) == {"version": fx.VERSION_ID, "input": {"prompt": "x"}}
    assert prediction.status == "processing"


def test_prediction_on_deployment_endpoint() -> None:
    with respx.mock() as mock:
        route = mock.post(f"{BASE}/deployments/alice/app/predictions").respond(201, json=fx.prediction())
        run(lambda c: c.predictions_create({"prompt": "x"}, deployment="alice/app"))
    assert body_of(route) == {"input": {"prompt": "x"}}


@pytest.mark.parametrize("kwargs", [{}, {"model": "a/b", "version": "v"}, {"model": "nosl"}])
def test_prediction_target_must_be_exactly_one_valid(kwargs: dict[str, str]) -> None:
    with respx.mock(), pytest.raises(UsageError):
        run(lambda c: c.predictions_create({}, **kwargs))


@pytest.mark.parametrize("status", fx.STATUSES)
def test_every_prediction_status_parses(status: str) -> None:
    with respx.mock() as mock:
        mock.get(f"{BASE}/predictions/{fx.PREDICTION_ID}").respond(200, json=fx.prediction(status))
        prediction = run(lambda c: c.predictions_get(fx.PREDICTION_ID))
    assert prediction.status == status
    assert prediction.is_terminal == (status in {"succeeded", "failed", "canceled", "aborted"})


def test_unknown_status_and_fields_are_kept() -> None:
    body = fx.prediction("queued_somewhere", brand_new_field={"x": 1})
    with respx.mock() as mock:
        mock.get(f"{BASE}/predictions/{fx.PREDICTION_ID}").respond(200, json=body)
        prediction = run(lambda c: c.predictions_get(fx.PREDICTION_ID))
    dumped = prediction.as_json()
    assert dumped["status"] == "queued_somewhere"
    assert dumped["brand_new_field"] == {"x": 1}


def test_predictions_list_and_cancel() -> None:
    with respx.mock() as mock:
        listed = mock.get(f"{BASE}/predictions").respond(200, json=fx.page([fx.prediction("canceled")]))
        cancel = mock.post(f"{BASE}/predictions/{fx.PREDICTION_ID}/cancel").respond(200, json=fx.prediction("canceled"))

        async def calls(c: ReplicateClient) -> tuple[Page[Prediction], Prediction]:
            return await c.predictions_list(created_after="2025-01-01T00:00:00Z"), await c.predictions_cancel(
                fx.PREDICTION_ID
            )

        page, canceled = run(calls)
    assert listed.calls.last.request.url.params["created_after"] == "2025-01-01T00:00:00Z"
    assert cancel.calls.last.request.method == "POST"
    assert page.results[0].status == canceled.status == "canceled"


# ----------------------------------------------------------------------- trainings


def test_trainings_create_posts_under_the_version() -> None:
    url = f"{BASE}/models/ostris/trainer/versions/{fx.VERSION_ID}/trainings"
    with respx.mock() as mock:
        route = mock.post(url).respond(201, json=fx.training("starting"))
        training = run(
            lambda c: c.trainings_create(
                "ostris", "trainer", fx.VERSION_ID, destination="alice/lora", input={"steps": 10}
            )
        )
    assert body_of(route) == {"destination": "alice/lora", "input": {"steps": 10}}
    assert isinstance(training, Training) and training.status == "starting"


def test_trainings_get_list_cancel() -> None:
    with respx.mock() as mock:
        mock.get(f"{BASE}/trainings/{fx.TRAINING_ID}").respond(200, json=fx.training())
        mock.get(f"{BASE}/trainings").respond(200, json=fx.page([fx.training("aborted")]))
        mock.post(f"{BASE}/trainings/{fx.TRAINING_ID}/cancel").respond(200, json=fx.training("canceled"))

        async def calls(c: ReplicateClient) -> list[str]:
            got = await c.trainings_get(fx.TRAINING_ID)
            page = await c.trainings_list()
            canceled = await c.trainings_cancel(fx.TRAINING_ID)
            return [got.output["version"], page.results[0].status, canceled.status]

        assert run(calls) == [f"alice/my-lora:{fx.VERSION_ID}", "aborted", "canceled"]


# --------------------------------------------------------------------- deployments


def test_deployments_crud() -> None:
    with respx.mock() as mock:
        created = mock.post(f"{BASE}/deployments").respond(200, json=fx.deployment())
        mock.get(f"{BASE}/deployments").respond(200, json=fx.page([fx.deployment()]))
        mock.get(f"{BASE}/deployments/alice/app").respond(200, json=fx.deployment(name="app"))
        updated = mock.patch(f"{BASE}/deployments/alice/app").respond(200, json=fx.deployment(name="app"))
        deleted = mock.delete(f"{BASE}/deployments/alice/app").respond(204)

        async def calls(c: ReplicateClient) -> Deployment:
            await c.deployments_create(
                name="app",
                model="stability-ai/sdxl",
                version=fx.VERSION_ID,
                hardware="gpu-t4",
                min_instances=0,
                max_instances=2,
            )
            page = await c.deployments_list()
            assert page.results[0].current_release is not None
            got = await c.deployments_get("alice", "app")
            await c.deployments_update("alice", "app", max_instances=3, version=None)
            await c.deployments_delete("alice", "app")
            return got

        got = run(calls)
    assert body_of(created) == {
        "name": "app",
        "model": "stability-ai/sdxl",
        "version": fx.VERSION_ID,
        "hardware": "gpu-t4",
        "min_instances": 0,
        "max_instances": 2,
    }
    assert body_of(updated) == {"max_instances": 3}
    assert deleted.called
    release = got.current_release
    assert release is not None and release.configuration is not None
    assert (release.number, release.configuration.hardware) == (1, "gpu-t4")
    assert release.created_by is not None and release.created_by.username == "alice"


# ------------------------------------------------------------- collections, search


def test_collections_list_and_get() -> None:
    with respx.mock() as mock:
        mock.get(f"{BASE}/collections").respond(200, json=fx.page([fx.collection_list_item()]))
        mock.get(f"{BASE}/collections/text-to-image").respond(200, json=fx.collection())

        async def calls(c: ReplicateClient) -> tuple[str, list[str]]:
            page = await c.collections_list()
            got = await c.collections_get("text-to-image")
            return page.results[0].slug, [m.full_name for m in got.models]

        assert run(calls) == ("text-to-image", ["stability-ai/sdxl", "black-forest-labs/flux-schnell"])


def test_search_query_and_limit() -> None:
    with respx.mock() as mock:
        route = mock.get(f"{BASE}/search").respond(200, json=fx.search_response())
        result = run(lambda c: c.search("nano banana", limit=5))
    params = route.calls.last.request.url.params
    assert (params["query"], params["limit"]) == ("nano banana", "5")
    assert result.models[0].model.full_name == "google/nano-banana"
    assert result.models[0].metadata.tags[0] == "text-to-image"
    assert result.collections[0].models == ["google/nano-banana"]
    assert result.pages[0].href == "/docs/guides/image-editing"


# ---------------------------------------------------------------------- pagination


def test_paginate_follows_next_lazily_across_two_pages() -> None:
    second_url = f"{BASE}/models?cursor=page2"
    with respx.mock() as mock:
        second_route = mock.get(f"{BASE}/models", params={"cursor": "page2"}).respond(
            200, json=fx.page([fx.model("c", "three")], previous=f"{BASE}/models")
        )
        first_route = mock.get(f"{BASE}/models").respond(
            200, json=fx.page([fx.model("a", "one"), fx.model("b", "two")], next=second_url)
        )

        async def calls(c: ReplicateClient) -> tuple[list[str], int]:
            first = await c.models_list()
            names = []
            async for item in c.paginate(first, None):
                names.append(item.full_name)
                if len(names) == 1:
                    # only the first page has been fetched so far
                    assert len(mock.calls) == 1
            return names, len(mock.calls)

        names, calls_made = run(calls)
    assert names == ["a/one", "b/two", "c/three"]
    assert calls_made == 2
    assert first_route.call_count == 1 and second_route.call_count == 1


def test_get_page_with_item_type() -> None:
    with respx.mock() as mock:
        mock.get(f"{BASE}/predictions", params={"cursor": "n"}).respond(200, json=fx.page([fx.prediction()]))
        page = run(lambda c: c.get_page(f"{BASE}/predictions?cursor=n", Prediction))
    assert page.results[0].id == fx.PREDICTION_ID


def test_paginate_with_custom_fetcher_stops_on_repeated_next() -> None:
    loop_url = f"{BASE}/models?cursor=same"
    pages = {loop_url: parse(Page[Model], fx.page([fx.model("x", "y")], next=loop_url))}

    async def fetch(url: str) -> Page[Any]:
        return pages[url]

    async def calls(c: ReplicateClient) -> list[str]:
        first = parse(Page[Model], fx.page([fx.model("a", "b")], next=loop_url))
        return [m.full_name async for m in c.paginate(first, fetch)]

    assert run(calls) == ["a/b", "x/y"]


def test_http_client_is_shared_between_calls() -> None:
    with respx.mock() as mock:
        mock.get(f"{BASE}/account").respond(200, json=fx.account())

        async def calls(c: ReplicateClient) -> bool:
            before = c._http
            await c.account_get()
            await c.account_get()
            return c._http is before and isinstance(before, httpx.AsyncClient)

        assert run(calls)
