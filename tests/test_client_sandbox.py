"""The client against a real server: the local sandbox on 127.0.0.1 (conftest's
`sandbox` fixture), so sync waits, SSE resumption and file round trips are exercised
over real sockets, not only mocks."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from rshell.client.api import ReplicateClient
from rshell.commands.files import signed_params
from rshell.errors import ApiError, AuthError
from rshell.rendering.output import as_json

T = TypeVar("T")


def run(sandbox: Any, make: Callable[[ReplicateClient], Awaitable[T]], token: str | None = "default") -> T:
    async def main() -> T:
        # the root URL without /v1: the form the official Python client uses
        key = sandbox.token if token == "default" else token
        async with ReplicateClient(key, sandbox.root) as client:
            return await make(client)

    return asyncio.run(main())


def test_sync_prediction_with_prefer_wait(sandbox: Any) -> None:
    prediction = run(
        sandbox, lambda c: c.predictions_create({"text": "hi", "times": 2}, model="rshell/echo", wait=True)
    )
    assert prediction.status == "succeeded"
    assert prediction.output == "hi hi"


def test_stream_to_done_then_resume_after_an_event_id(sandbox: Any) -> None:
    async def flow(c: ReplicateClient) -> tuple[list[Any], list[Any]]:
        prediction = await c.predictions_create(
            {"prompt": "once upon", "max_tokens": 6}, model="rshell/tinylm", stream=True
        )
        assert prediction.urls.stream
        events = [e async for e in c.stream(prediction.urls.stream)]
        resumed = [e async for e in c.stream(prediction.urls.stream, last_event_id=events[1].id)]
        return events, resumed

    events, resumed = run(sandbox, flow)
    assert events[-1].event == "done"
    assert any(e.event == "output" for e in events)
    assert [e.id for e in resumed] == [e.id for e in events[2:]]


def test_upload_then_download_round_trip(sandbox: Any, tmp_path: Path) -> None:
    source = tmp_path / "notes.txt"
    source.write_text("hello sandbox\n" * 1000)
    target_dir = tmp_path / "out"
    target_dir.mkdir()

    async def flow(c: ReplicateClient) -> tuple[Any, Path]:
        uploaded = await c.files_create(source, metadata={"k": "v"})
        record = as_json(await c.files_get(uploaded.id))
        return uploaded, await c.files_download(uploaded.id, target_dir, **signed_params(c, record, uploaded.id))

    uploaded, written = run(sandbox, flow)
    assert uploaded.content_type == "text/plain" and uploaded.size == source.stat().st_size
    assert written == target_dir / "notes.txt"
    assert written.read_bytes() == source.read_bytes()


def test_lists_paginate_and_search_uses_query(sandbox: Any) -> None:
    async def flow(c: ReplicateClient) -> tuple[list[str], list[str]]:
        first = await c.models_list()
        every = [m.full_name async for m in c.paginate(first)]
        found = await c.models_search("tinylm")
        return every, [m.full_name for m in found.results]

    every, found = run(sandbox, flow)
    assert "rshell/echo" in every and "rshell/tinylm" in every
    assert found[0] == "rshell/tinylm"


def test_not_found_and_bad_token(sandbox: Any) -> None:
    with pytest.raises(ApiError) as missing:
        run(sandbox, lambda c: c.models_get("rshell", "no-such-model"))
    assert missing.value.message == "API error 404: model rshell/no-such-model not found"
    with pytest.raises(AuthError) as refused:
        run(sandbox, lambda c: c.account_get(), token=None)
    assert refused.value.hint is not None and "REPLICATE_API_TOKEN" in refused.value.hint


def test_server_401_is_an_auth_error(sandbox: Any) -> None:
    """No Authorization header at all (require_token=False): the server's 401 → AuthError."""

    async def main() -> None:
        async with ReplicateClient(None, sandbox.url, require_token=False) as client:
            await client.account_get()

    with pytest.raises(AuthError) as refused:
        asyncio.run(main())
    assert refused.value.message.startswith("authentication failed: ")
