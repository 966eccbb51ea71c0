"""--limit, --all and --cursor on every list command, and the next-page hint."""

from __future__ import annotations

import api_fixtures as fx
import httpx
import pytest
from rsh import BASE, mocked

from rshell.commands import catalog
from rshell.commands.paging import MAX_PAGES
from rshell.errors import RshellError, UsageError

LISTS = [
    ("prediction list", "/predictions", fx.prediction),
    ("training list", "/trainings", fx.training),
    ("deployments list", "/deployments", fx.deployment),
    ("files list", "/files", fx.file),
    ("collections list", "/collections", fx.collection_list_item),
    ("model list", "/models", fx.model),
    ("model versions alice/m", "/models/alice/m/versions", fx.version),
    ("model examples alice/m", "/models/alice/m/examples", fx.prediction),
]


def _pages(path: str, make, count: int, per_page: int = 2) -> list[httpx.Response]:
    """`count` pages of `per_page` items, each linking to the next by cursor."""
    pages = []
    for n in range(count):
        nxt = f"{BASE}{path}?cursor=c{n + 1}" if n + 1 < count else None
        pages.append(httpx.Response(200, json=fx.page([make() for _ in range(per_page)], next=nxt)))
    return pages


def _by_cursor(pages: list[httpx.Response]):
    def answer(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor", "c0")
        return pages[int(cursor[1:])]

    return answer


def test_every_list_command_takes_the_paging_flags() -> None:
    lists = [c for c in catalog.COMMANDS if c.path[-1] in ("list", "versions", "examples", "search")]
    # GET /search is one answer with its own --limit; GET /hardware is a plain array
    lists = [c for c in lists if c.path not in (("search",), ("hardware", "list"))]
    assert len(lists) >= 9
    for command in lists:
        assert {"--limit", "--all", "--cursor"} <= {f.name for f in command.flags}, command.name


@pytest.mark.parametrize("line, path, make", LISTS)
def test_all_follows_every_page(api, line, path, make):
    route = api.get(path).mock(side_effect=_by_cursor(_pages(path, make, 3)))
    ran = mocked(f"{line} --all")
    assert route.call_count == 3
    assert len(ran.data["results"]) == 6 and ran.data["next"] is None


@pytest.mark.parametrize("line, path, make", LISTS)
def test_first_page_ends_with_how_to_get_the_next(api, line, path, make):
    api.get(path).mock(side_effect=_by_cursor(_pages(path, make, 2)))
    ran = mocked(line)
    assert len(ran.data["results"]) == 2
    assert ran.stdout.splitlines()[-1] == f"(next page: {line} --cursor c1)"


def test_cursor_given_bare_is_sent_as_the_cursor_parameter(api):
    route = api.get("/predictions").mock(side_effect=_by_cursor(_pages("/predictions", fx.prediction, 3)))
    ran = mocked("prediction list --cursor c1")
    assert route.calls.last.request.url.params["cursor"] == "c1"
    assert ran.stdout.splitlines()[-1] == "(next page: prediction list --cursor c2)"


def test_cursor_given_as_the_whole_next_url_is_fetched_as_is(api):
    route = api.get("/models").respond(200, json=fx.page([fx.model()]))
    assert mocked(f"model list --cursor '{BASE}/models?cursor=c7&sort_by=model_created_at'").code == 0
    assert dict(route.calls.last.request.url.params) == {"cursor": "c7", "sort_by": "model_created_at"}


@pytest.mark.parametrize(
    "cursor",
    ["https://evil.example/v1/predictions?cursor=x", f"{BASE}/files?cursor=x", "http://api.replicate.com:81/v1/x"],
)
def test_cursor_url_of_another_host_or_list_sends_nothing(api, cursor):
    ran = mocked(f"prediction list --cursor '{cursor}'")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert ran.error.exit_code == 2 and not api.calls


def test_limit_fetches_as_many_pages_as_it_needs_and_no_more(api):
    route = api.get("/predictions").mock(side_effect=_by_cursor(_pages("/predictions", fx.prediction, 5)))
    ran = mocked("prediction list --limit 3")
    assert route.call_count == 2
    assert len(ran.data["results"]) == 3
    assert ran.stdout.splitlines()[-1] == "(1 more on this page: raise --limit, or --all)"


def test_limit_on_a_page_boundary_hints_the_next_cursor(api):
    api.get("/predictions").mock(side_effect=_by_cursor(_pages("/predictions", fx.prediction, 5)))
    ran = mocked("prediction list --limit 4")
    assert len(ran.data["results"]) == 4
    assert ran.stdout.splitlines()[-1] == "(next page: prediction list --cursor c2)"


def test_all_stops_after_max_pages_from_a_server_that_never_ends(api):
    def endless(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params.get("cursor", "0"))
        return httpx.Response(200, json=fx.page([fx.file()], next=f"{BASE}/files?cursor={n + 1}"))

    route = api.get("/files").mock(side_effect=endless)
    ran = mocked("files list --all")
    assert route.call_count == MAX_PAGES
    assert len(ran.data["results"]) == MAX_PAGES
    assert ran.stdout.splitlines()[-1] == f"(next page: files list --cursor {MAX_PAGES})"


def test_all_stops_on_a_next_link_that_repeats(api):
    route = api.get("/files").respond(200, json=fx.page([fx.file()], next=f"{BASE}/files?cursor=same"))
    assert mocked("files list --all").code == 0
    assert route.call_count == 2  # the first page, then `same` once


def test_all_refuses_a_next_link_to_another_host(api):
    api.get("/files").respond(200, json=fx.page([fx.file()], next="https://evil.example/v1/files?cursor=1"))
    ran = mocked("files list --all")
    assert ran.code == 1 and isinstance(ran.error, RshellError)
    assert "evil.example" in ran.error.message and ran.error.exit_code == 1


@pytest.mark.parametrize(
    "flags, message",
    [
        ("--limit 0", "--limit must be between 1 and"),
        ("--limit 3 --all", "give --limit or --all, not both"),
        ("--limit x", "--limit needs an integer"),
        ("--cursor ''", "--cursor needs a value"),
    ],
)
def test_bad_paging_flags_send_nothing(api, flags, message):
    ran = mocked(f"prediction list {flags}")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert message in ran.error.message and not api.calls


def test_search_follows_pages_with_its_query_body(api):
    first = fx.page([fx.model()], next=f"{BASE}/models?cursor=c1")
    route = api.route(method="QUERY", path="/models").mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=fx.page([fx.model()]))]
    )
    ran = mocked("model search fox --all")
    assert route.call_count == 2 and [c.request.content for c in route.calls] == [b"fox", b"fox"]
    assert len(ran.data["results"]) == 2


# prediction list filters -----------------------------------------------------------


def test_prediction_filters_become_the_query_and_stay_in_the_hint(api):
    route = api.get("/predictions").mock(side_effect=_by_cursor(_pages("/predictions", fx.prediction, 2)))
    ran = mocked("prediction list --since 2025-01-01 --until 2025-02-01T12:00:00+02:00 --source web")
    assert dict(route.calls.last.request.url.params) == {
        "created_after": "2025-01-01T00:00:00Z",
        "created_before": "2025-02-01T10:00:00Z",
        "source": "web",
    }
    assert ran.stdout.splitlines()[-1] == (
        "(next page: prediction list --since 2025-01-01 --until 2025-02-01T12:00:00+02:00 --source web --cursor c1)"
    )


@pytest.mark.parametrize(
    "flags, message",
    [
        ("--since yesterday", "--since needs an ISO 8601 time"),
        ("--until 2025-13-01", "--until needs an ISO 8601 time"),
        ("--source api", "unknown value 'api' for --source"),
    ],
)
def test_bad_filters_send_nothing(api, flags, message):
    ran = mocked(f"prediction list {flags}")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert message in ran.error.message and not api.calls
