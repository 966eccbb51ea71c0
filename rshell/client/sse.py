"""Server-sent events of a prediction stream, parsed by httpx-sse.

A prediction's `urls.stream` sends `output`, `logs`, `error` and finally `done`. A
stream that stops before `done` is not a finished prediction: it raises
StreamInterrupted carrying the last event id, so the caller can reconnect with
`Last-Event-ID` or fall back to polling. A stream that sends nothing at all (not even
a keep-alive comment) for the client's idle limit is interrupted too, marked `idle`:
a silent server must not hold a wait forever (SPEC 8).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from rshell.errors import NetworkError

if TYPE_CHECKING:
    import httpx

    from rshell.client.models import ServerEvent

STREAM_EVENTS = frozenset({"output", "logs", "error", "done"})


class StreamInterrupted(NetworkError):
    """The event stream ended (or broke) before its `done` event."""

    def __init__(
        self, message: str, last_event_id: str | None = None, hint: str | None = None, *, idle: bool = False
    ) -> None:
        super().__init__(message, hint or "the prediction may still be running; poll it with `prediction show`")
        self.last_event_id = last_event_id
        self.idle = idle  # nothing arrived for the idle limit: resuming would likely idle again


def stream_headers(last_event_id: str | None) -> dict[str, str]:
    """What an SSE request sends: the media type, no caching, and where to resume."""
    headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    return headers


async def iter_events(response: httpx.Response, host: str) -> AsyncIterator[ServerEvent]:
    """Yield the stream's events up to and including `done`; raise if it stops short."""
    import httpx
    from httpx_sse import EventSource, SSEError

    from rshell.client.models import ServerEvent

    last_id: str | None = None
    try:
        async for sse in EventSource(response).aiter_sse():
            last_id = sse.id or last_id
            if sse.event not in STREAM_EVENTS:
                continue  # comments, keep-alives, unknown event types
            yield ServerEvent(event=sse.event, data=sse.data, id=sse.id or None)
            if sse.event == "done":
                return
    except SSEError as exc:
        raise StreamInterrupted(f"stream from {host} is not an event stream ({exc})", last_id) from None
    except httpx.ReadTimeout:
        raise StreamInterrupted(f"stream from {host} went silent", last_id, idle=True) from None
    except httpx.TransportError as exc:
        reason = str(exc) or type(exc).__name__
        raise StreamInterrupted(f"stream from {host} broke: {reason}", last_id) from None
    raise StreamInterrupted(f"stream from {host} ended before the prediction finished", last_id)
