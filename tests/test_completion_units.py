"""The completion parts on their own: ranking, the cache and its disk copy, the
refresher's scheduling (de-duplication, debounce, cool-off, threads), the context."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_completion_support import HeldPause

from rshell.client.models import Hardware, Model, Page
from rshell.completion import context, engine
from rshell.completion.cache import CompletionCache, ModelInfo, VersionInfo, default_path
from rshell.completion.matcher import BOUNDARY, FUZZY, PREFIX, SUBSTRING, Candidate, match_class, rank
from rshell.completion.meta import MAX_META, input_meta, one_line
from rshell.completion.refresher import Refresher
from rshell.session.state import Session

# matcher ------------------------------------------------------------------------------------


def texts(found: list[Candidate]) -> list[str]:
    return [c.text for c in found]


def test_prefix_then_boundary_then_substring_then_fuzzy() -> None:
    pool = [Candidate(t) for t in ("xsdxl", "stability-ai/sdxl", "sdxl-lightning", "s-d-x-l", "other")]
    assert texts(rank("sdxl", pool)) == ["sdxl-lightning", "stability-ai/sdxl", "xsdxl", "s-d-x-l"]
    assert [match_class("sdxl", t) for t in ("sdxl-l", "a/sdxl", "xsdxl", "s-d-x-l", "zzz")] == [
        PREFIX,
        BOUNDARY,
        SUBSTRING,
        FUZZY,
        None,
    ]


def test_order_inside_a_class_is_the_callers() -> None:
    pool = [Candidate(t) for t in ("model-c", "model-a", "model-b")]
    assert texts(rank("model", pool)) == ["model-c", "model-a", "model-b"]
    assert texts(rank("", pool)) == ["model-c", "model-a", "model-b"]


def test_fuzzy_prefers_tight_early_matches_and_ignores_case() -> None:
    pool = [Candidate(t) for t in ("a-very-long-b-name", "ab-name", "xxab")]
    assert texts(rank("AB", pool)) == ["ab-name", "xxab", "a-very-long-b-name"]


def test_limit_skips_the_fuzzy_pass_once_filled() -> None:
    pool = [Candidate(f"st{i}") for i in range(5)] + [Candidate("s-t")]
    assert texts(rank("st", pool, limit=3)) == ["st0", "st1", "st2"]
    assert "s-t" in texts(rank("st", pool, limit=10))
    assert "s-t" not in texts(rank("st", pool, fuzzy=False))


@given(st.text(max_size=6), st.lists(st.text(max_size=12), max_size=30))
def test_every_ranked_candidate_matches_and_none_is_lost_or_doubled(word: str, names: list[str]) -> None:
    pool = [Candidate(n) for n in names]
    found = rank(word, pool)
    assert len(found) == len({id(c) for c in found})
    assert all(match_class(word, c.text) is not None for c in found)
    expected = [c for c in pool if match_class(word, c.text) is not None]
    assert sorted(map(id, found)) == sorted(map(id, expected))
    classes = [match_class(word, c.text) for c in found]
    assert classes == sorted(classes)  # type: ignore[type-var]


# meta -----------------------------------------------------------------------------------------


def test_meta_is_one_safe_line() -> None:
    assert one_line("a\x1b[31mred\x1b[0m\n\tline") == "a\\x1b[31mred\\x1b[0m line"
    assert len(one_line("x" * 500)) == MAX_META  # a bound on what a server puts in a line; the menu fits it
    assert (
        input_meta({"type": "array", "items": {"type": "string"}, "default": ["a"]}, False) == 'array of string = ["a"]'
    )
    assert input_meta({"type": "number"}, True) == "number, required"


# cache -------------------------------------------------------------------------------------------


def test_models_merge_rank_by_runs_and_remember_searches() -> None:
    cache = CompletionCache()
    cache.put_models([ModelInfo("a/low", "", 5), ModelInfo("a/high", "Top", 5000)], query="a")
    cache.put_models([ModelInfo("b/mid", "", 50), ModelInfo("a/low", "now described", 6)])
    assert texts(list(cache.model_pool)) == ["a/high", "b/mid", "a/low"]
    assert cache.models["a/low"].description == "now described"
    assert cache.searches == {"a": ("a/low", "a/high")}
    assert cache.model_pool[0].meta == "5k runs · Top"


def test_own_models_follow_the_username() -> None:
    cache = CompletionCache()
    cache.put_models([ModelInfo("alice/x", "", 1), ModelInfo("bob/y", "", 2), ModelInfo("alice/z", "", 3)])
    assert cache.own_models() == ()
    cache.set_username("alice")
    assert texts(list(cache.own_models())) == ["alice/z", "alice/x"]
    cache.put_models([ModelInfo("alice/new", "", 10)])
    assert texts(list(cache.own_models())) == ["alice/new", "alice/z", "alice/x"]


def test_freshness_marks() -> None:
    cache = CompletionCache()
    assert cache.age("hardware") is None
    cache.mark("hardware", at=time.time() - 100)
    age = cache.age("hardware")
    assert age is not None and 99 <= age < 110


def test_disk_copy_round_trips_and_is_written_atomically(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "completion.json"
    cache = CompletionCache(path)
    cache.put_models([ModelInfo("a/b", "desc", 7)], query="a")
    cache.put_schema("a/b", {"components": {}}, "v1")
    cache.put_versions("a/b", [VersionInfo("v1", "2024-01-01T00:00:00Z")])
    cache.put_list("files", [Candidate("f1", "data.zip")])
    cache.add_recent_models(["a/b"])
    cache.set_username("alice")
    cache.mark("models", "a")
    cache.save()
    assert [p.name for p in path.parent.iterdir()] == ["completion.json"]  # no temp file left
    again = CompletionCache(path)
    assert again.load()
    assert again.to_json() == cache.to_json()
    assert texts(list(again.model_pool)) == ["a/b"]
    assert again.schema_for("a/b") == {"components": {}} and again.schema_for("a/b", "v1") == {"components": {}}


def test_unreadable_or_foreign_disk_copies_leave_an_empty_cache(tmp_path: Path) -> None:
    path = tmp_path / "completion.json"
    assert not CompletionCache(path).load()
    path.write_text(json.dumps({"format": 999, "models": [["a/b", "", 1]]}))
    cache = CompletionCache(path)
    cache.load()
    assert cache.models == {}
    path.write_text('{"format": 1, "models": [["a/b"]]}')
    assert not CompletionCache(path).load()


def test_one_cache_file_per_api_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_path(None) == default_path("https://api.replicate.com/v1") == tmp_path / "rshell" / "completion.json"
    assert default_path("http://127.0.0.1:5000/v1").name == "completion-127.0.0.1_5000.json"


def test_readers_never_see_a_half_written_pool() -> None:
    cache = CompletionCache()
    stop = threading.Event()
    bad: list[Any] = []

    def read() -> None:
        while not stop.is_set():
            pool = cache.model_pool
            if len(pool) != len({c.text for c in pool}):
                bad.append(pool)

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(200):
        cache.put_models([ModelInfo(f"o/m{i}", "", i)])
    stop.set()
    reader.join()
    assert bad == [] and len(cache.model_pool) == 200


# refresher ----------------------------------------------------------------------------------------


class FakeClient:
    """Just enough client for the refresher, counting calls, optionally held back."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.gate: asyncio.Event | None = None
        self.fail = False
        self.called = asyncio.Event()  # a request is inside the client (needs the loop running)

    async def requested(self) -> None:
        """Until a fetch has reached the client; the timeout only bounds a hang."""
        await asyncio.wait_for(self.called.wait(), 30)

    async def _wait(self) -> None:
        self.called.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise RuntimeError("boom")

    async def hardware_list(self) -> list[Hardware]:
        self.calls.append("hardware")
        await self._wait()
        return [Hardware(sku="cpu", name="CPU")]

    async def models_search(self, query: str) -> Page[Model]:
        self.calls.append(f"search:{query}")
        await self._wait()
        return Page[Model](results=[Model(owner="o", name=query, run_count=1)])


def refresher_for(client: FakeClient, cache: CompletionCache | None = None) -> Refresher:
    async def get_client() -> Any:
        return client

    return Refresher(get_client, cache or CompletionCache())


def test_want_deduplicates_and_respects_freshness() -> None:
    async def scenario() -> None:
        client = FakeClient()
        client.gate = asyncio.Event()
        r = refresher_for(client)
        for _ in range(5):
            r.want("hardware")
        await client.requested()
        assert client.calls == ["hardware"]
        client.gate.set()
        assert await r.drain(2)
        r.want("hardware")  # fresh now
        assert await r.drain(2)
        assert client.calls == ["hardware"]
        assert r.cache.lists["hardware"] == (Candidate("cpu", "CPU"),)

    asyncio.run(scenario())


def test_unknown_kinds_and_failures_never_raise_and_cool_off() -> None:
    async def scenario() -> None:
        client = FakeClient()
        client.fail = True
        r = refresher_for(client)
        r.want("no-such-kind")
        r.want("hardware")
        assert await r.drain(2)
        r.want("hardware")
        assert await r.drain(2)
        assert client.calls == ["hardware"]  # not retried at once
        assert r.cache.age("hardware") is None

    asyncio.run(scenario())


def test_search_waits_for_a_pause_in_typing() -> None:
    async def scenario() -> None:
        client = FakeClient()
        r = refresher_for(client)
        r.debounce = 0.1
        held = HeldPause(r)
        for query in ("fl", "flu", "flux"):
            r.want("models", query)
            await asyncio.sleep(0)  # the loop runs between keystrokes
        assert held.delays == [0.1] * 3  # every keystroke restarted the wait for a pause
        assert client.calls == []
        held.pause()
        assert await r.drain(2)
        assert client.calls == ["search:flux"]
        assert "o/flux" in r.cache.models

    asyncio.run(scenario())


def test_want_from_another_thread_runs_on_the_loop_and_notifies() -> None:
    async def scenario() -> None:
        client = FakeClient()
        r = refresher_for(client)
        landed = asyncio.Event()
        loop = asyncio.get_running_loop()
        r.loop = loop
        r.on_update = lambda: landed.set()
        thread = threading.Thread(target=r.want, args=("hardware",))
        thread.start()
        thread.join()
        await asyncio.wait_for(landed.wait(), 2)
        assert client.calls == ["hardware"]

    asyncio.run(scenario())


def test_without_a_loop_a_private_thread_does_the_work() -> None:
    client = FakeClient()
    r = refresher_for(client)
    landed = threading.Event()
    r.on_update = landed.set
    r.want("hardware")  # no loop running here
    assert landed.wait(5)
    assert r.cache.lists["hardware"] == (Candidate("cpu", "CPU"),)
    r.stop()


def test_stop_cancels_a_hanging_fetch() -> None:
    async def scenario() -> None:
        client = FakeClient()
        client.gate = asyncio.Event()
        r = refresher_for(client)
        r.want("hardware")
        await client.requested()  # the fetch now hangs inside the client
        r.stop()
        assert await r.drain(1)
        assert r.cache.age("hardware") is None

    asyncio.run(scenario())


def test_an_on_update_that_raises_is_contained() -> None:
    async def scenario() -> None:
        r = refresher_for(FakeClient())

        def broken() -> None:
            raise RuntimeError("redraw failed")

        r.on_update = broken
        r.want("hardware")
        assert await r.drain(2)
        assert r.cache.lists["hardware"]

    asyncio.run(scenario())


# context -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "kind", "prefix", "start"),
    [
        ("", context.COMMAND, "", 0),
        ("mod", context.COMMAND, "mod", -3),
        ("model ", context.SUBCOMMAND, "", 0),
        ("run ", context.SOURCE, "", 0),
        ("run a/b:12", context.VERSION, "12", -2),
        ("run a/b pro", context.INPUT_KEY, "pro", -3),
        ("run a/b 'steps=5", context.INPUT_VALUE, "5", -1),
        ('run a/b prompt="a b', context.INPUT_VALUE, "a b", -4),
        ("run a/b img=@x/y", context.PATH, "x/y", -3),
        ("run a/b --output-directory o", context.PATH, "o", -1),
        ("run a/b --", context.FLAG, "--", -2),
        ("run a/b --hardware", context.FLAG, "--hardware", -10),
        ("model create a/b --hardware g", context.FLAG_VALUE, "g", -1),
        ("run a/b x=$v.a", context.VARIABLE, "v.a", -4),
        ("run a/b x={{  v.a", context.VARIABLE, "v.a", -3),
    ],
)
def test_what_fits_at_the_cursor(line: str, kind: str, prefix: str, start: int) -> None:
    wants = context.analyse(line, Session())
    assert [(w.kind, w.prefix, w.start) for w in wants] == [(kind, prefix, start)]


def test_the_model_and_the_given_keys_are_known_to_the_input_want() -> None:
    (want,) = context.analyse("stream a/b:v1 x=1 y=2 ", Session())
    assert isinstance(want, context.InputKey)
    assert (want.kind, want.site.model, want.given, want.site.separator) == (
        context.INPUT_KEY,
        "a/b:v1",
        frozenset({"x", "y"}),
        "=",
    )
    assert want.site.command is not None and want.site.command.name == "prediction create"
    # as the argument parser does, a word holding the separator is an input
    (want,) = context.analyse("stream a/b --separator : x:1 y:2 ", Session())
    assert isinstance(want, context.InputKey)
    assert (want.site.model, want.given, want.site.separator) == ("a/b", frozenset({"x", "y"}), ":")
    assert want.site.command is not None and want.site.command.name == "prediction create"


def test_recent_models_are_read_from_model_arguments_only() -> None:
    session = Session()
    statement = "files upload dir/file.zip; train t/r:v --destination me/out; img = run a/b:v1 x=1 | !jq ."
    assert engine.models_named(statement, session) == ["t/r", "me/out", "a/b"]
    assert engine.models_named("run 'unclosed", session) == []
