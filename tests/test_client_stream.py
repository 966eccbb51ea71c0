"""SSE: events of a prediction stream, multi-line data, Last-Event-ID, and the
StreamInterrupted error when the stream stops before `done`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import api_fixtures as fx
import httpx
import pytest
import respx

from rshell.client.api import ReplicateClient
from rshell.client.models import ServerEvent
from rshell.client.sse import StreamInterrupted
from rshell.errors import ApiError, NetworkError

STREAM = "https://stream.replicate.com/v1/files/abc-stream"
SSE_HEADERS = {"Content-Type": "text/event-stream; charset=utf-8"}
TOKEN = "r8_fake-streamtesttoken"


def collect(url: str = STREAM, last_event_id: str | None = None) -> list[ServerEvent]:
    async def main() -> list[ServerEvent]:
        async with ReplicateClient(TOKEN, fx.BASE, max_retries=1, sleep=_no_sleep) as client:
            return [event async for event in client.stream(url, last_event_id)]

    return asyncio.run(main())


async def _no_sleep(seconds: float) -> None:
    return None


class BreaksAfter(httpx.AsyncByteStream):
    """A body that sends some bytes, then the connection drops."""

    def __init__(self, first: bytes) -> None:
        self.first = first

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.first
        raise httpx.ReadError("connection reset by peer")


def test_events_in_order_with_multiline_data_joined() -> None:
    body = fx.sse_body(
        [
            ("output", "Hello"),
            ("logs", "step 1\nstep 2"),
            ("output", " world\n\nsecond paragraph"),
            ("done", "{}"),
        ]
    )
    with respx.mock() as mock:
        mock.get(STREAM).respond(200, content=body, headers=SSE_HEADERS)
        events = collect()
    assert [(e.event, e.data, e.id) for e in events] == [
        ("output", "Hello", "1"),
        ("logs", "step 1\nstep 2", "2"),
        ("output", " world\n\nsecond paragraph", "3"),
        ("done", "{}", "4"),
    ]


def test_error_event_is_delivered_then_done() -> None:
    body = fx.sse_body([("error", '{"detail": "CUDA out of memory"}'), ("done", '{"reason": "error"}')])
    with respx.mock() as mock:
        mock.get(STREAM).respond(200, content=body, headers=SSE_HEADERS)
        events = collect()
    assert [e.event for e in events] == ["error", "done"]


def test_unknown_events_and_comments_are_skipped_and_nothing_after_done_is_read() -> None:
    raw = (
        b": keep-alive\n\n"
        b"event: ping\ndata: x\n\n"
        b"data: a message without a type\n\n"
        b"event: output\ndata: tok\n\n"
        b"event: done\ndata: {}\n\n"
        b"event: output\ndata: after done\n\n"
    )
    with respx.mock() as mock:
        mock.get(STREAM).respond(200, content=raw, headers=SSE_HEADERS)
        events = collect()
    assert [(e.event, e.data, e.id) for e in events] == [("output", "tok", None), ("done", "{}", None)]


def test_headers_accept_and_last_event_id() -> None:
    with respx.mock() as mock:
        route = mock.get(STREAM).respond(200, content=fx.sse_body([("done", "{}")]), headers=SSE_HEADERS)
        collect(last_event_id="41")
    headers = route.calls.last.request.headers
    assert headers["Accept"] == "text/event-stream"
    assert headers["Last-Event-ID"] == "41"
    assert "Authorization" not in headers  # the stream host is not the API host


def test_stream_ending_without_done_raises_interrupted_with_last_id() -> None:
    body = fx.sse_body([("output", "partial"), ("output", " more")])
    with respx.mock() as mock:
        mock.get(STREAM).respond(200, content=body, headers=SSE_HEADERS)
        with pytest.raises(StreamInterrupted) as caught:
            collect()
    assert isinstance(caught.value, NetworkError)
    assert caught.value.last_event_id == "2"
    assert "stream.replicate.com" in caught.value.message


def test_connection_dropping_mid_stream_raises_interrupted() -> None:
    received: list[str] = []

    async def main() -> None:
        async with ReplicateClient(TOKEN, fx.BASE) as client:
            async for event in client.stream(STREAM):
                received.append(event.data)

    with respx.mock() as mock:
        mock.get(STREAM).mock(
            return_value=httpx.Response(
                200, headers=SSE_HEADERS, stream=BreaksAfter(b"id: 7\nevent: output\ndata: one\n\n")
            )
        )
        with pytest.raises(StreamInterrupted) as caught:
            asyncio.run(main())
    assert received == ["one"]
    assert caught.value.last_event_id == "7"
    assert "connection reset" in caught.value.message


def test_non_event_stream_response_is_interrupted_not_a_crash() -> None:
    with respx.mock() as mock:
        mock.get(STREAM).respond(200, json={"status": "succeeded"})
        with pytest.raises(StreamInterrupted):
            collect()


def test_stream_error_status_is_api_error() -> None:
    with respx.mock() as mock:
        mock.get(STREAM).respond(404, json=fx.problem(404, "Stream not found"))
        with pytest.raises(ApiError) as caught:
            collect()
    assert caught.value.detail == "Stream not found"


def test_stream_on_api_host_carries_token_and_retries_503() -> None:
    url = f"{fx.BASE}/predictions/{fx.PREDICTION_ID}/stream"
    with respx.mock() as mock:
        route = mock.get(url).mock(
            side_effect=[
                httpx.Response(503),
                httpx.Response(200, content=fx.sse_body([("done", "{}")]), headers=SSE_HEADERS),
            ]
        )
        events = collect(url)
    assert [e.event for e in events] == ["done"]
    assert route.call_count == 2
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"
