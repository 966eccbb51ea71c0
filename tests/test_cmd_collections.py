"""`collections list|show` and `search` against a respx-mocked API."""

from __future__ import annotations

import api_fixtures as fx
import pytest
from rsh import mocked

from rshell.errors import ApiError, UsageError


def test_list_is_a_table_of_slug_name_description(api, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    items = [
        fx.collection_list_item(),
        fx.collection_list_item("upscalers", name="Upscalers", description="Make images bigger"),
    ]
    api.get("/collections").respond(200, json=fx.page(items))
    ran = mocked("collections list")
    lines = ran.stdout.splitlines()
    assert lines[0].split() == ["SLUG", "NAME", "DESCRIPTION"]
    assert lines[1].startswith("text-to-image  Text to image  Models that generate")
    assert lines[2].split()[:2] == ["upscalers", "Upscalers"]
    assert ran.data["results"][1]["slug"] == "upscalers"


def test_show_names_the_collection_and_tables_its_models(api, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    api.get("/collections/text-to-image").respond(200, json=fx.collection())
    ran = mocked("collection show text-to-image")
    lines = ran.stdout.splitlines()
    assert lines[0] == "Text to image (text-to-image)"
    assert lines[1] == "Models that generate images from text prompts"
    assert lines[3].split() == ["MODEL", "RUNS", "DESCRIPTION"]
    assert [line.split()[0] for line in lines[4:]] == ["stability-ai/sdxl", "black-forest-labs/flux-schnell"]
    assert len(ran.data["models"]) == 2


def test_show_of_a_missing_collection_is_a_404(api):
    api.get("/collections/nope").respond(404, json=fx.problem(404, "Collection not found"))
    ran = mocked("collections show nope")
    assert ran.code == 1 and isinstance(ran.error, ApiError)
    assert ran.error.status == 404


def test_search_sends_query_and_limit_and_shows_three_sections(api, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    route = api.get("/search").respond(200, json=fx.search_response())
    ran = mocked("search 'nano banana' --limit 5")
    params = route.calls.last.request.url.params
    assert params["query"] == "nano banana" and params["limit"] == "5"
    sections = ran.stdout.rstrip("\n").split("\n\n")
    assert [s.splitlines()[0] for s in sections] == ["Models", "Collections", "Pages"]
    assert sections[0].splitlines()[2].split()[:2] == ["google/nano-banana", "75.8M"]
    assert sections[1].splitlines()[2].split()[:1] == ["image-editing"]
    assert sections[2].splitlines()[2].split() == [
        "Getting",
        "started",
        "with",
        "image",
        "editing",
        "/docs/guides/image-editing",
    ]
    assert ran.data["query"] == "nano banana"


def test_search_without_limit_lets_the_api_choose(api):
    route = api.get("/search").respond(200, json=fx.search_response())
    assert mocked("search banana").code == 0
    assert "limit" not in route.calls.last.request.url.params


def test_search_with_nothing_found(api):
    api.get("/search").respond(200, json=fx.search_response("zzz", models=[], collections=[], pages=[]))
    assert mocked("search zzz").stdout == "nothing found for 'zzz'\n"


@pytest.mark.parametrize("line", ["search x --limit 0", "search x --limit 51", "search ''", "search x --limit many"])
def test_bad_search_is_a_usage_error_with_no_request(api, line):
    ran = mocked(line)
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert api.calls.call_count == 0
