"""Retries (SPEC 8) and the errors users see: problem+json detail, 401 → AuthError,
404 naming the object, network down → NetworkError; never the token in any text."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from typing import Any, TypeVar

import api_fixtures as fx
import httpx
import pytest
import respx

from rshell.client.api import ReplicateClient
from rshell.client.problems import AUTH_HINT
from rshell.client.retry import RetryPolicy, parse_retry_after
from rshell.errors import ApiError, AuthError, NetworkError, RshellError

T = TypeVar("T")
BASE = fx.BASE
TOKEN = "r8_fake-secrettokenvalue-1234567890-abcdefghij"


class Sleeps:
    """An injected sleep that records delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def run(
    make: Callable[[ReplicateClient], Awaitable[T]],
    *,
    sleeps: Sleeps | None = None,
    retries: int = 3,
    token: str | None = TOKEN,
) -> T:
    async def main() -> T:
        async with ReplicateClient(token, BASE, max_retries=retries, sleep=sleeps or Sleeps()) as client:
            return await make(client)

    return asyncio.run(main())


def all_text(error: RshellError) -> str:
    return " ".join([str(error), repr(error), *error.lines(), str(getattr(error, "detail", ""))])


# --------------------------------------------------------------------------- retries


def test_get_429_with_retry_after_seconds_is_retried_after_that_long() -> None:
    sleeps = Sleeps()
    with respx.mock() as mock:
        route = mock.get(f"{BASE}/account").mock(
            side_effect=[
                httpx.Response(429, headers={"Retry-After": "7"}, json=fx.problem(429, "slow down")),
                httpx.Response(200, json=fx.account()),
            ]
        )
        account = run(lambda c: c.account_get(), sleeps=sleeps)
    assert account.username == "alice"
    assert route.call_count == 2
    assert sleeps.delays == [7.0]


def test_get_429_with_retry_after_http_date() -> None:
    sleeps = Sleeps()
    when = formatdate(time.time() + 30, usegmt=True)
    with respx.mock() as mock:
        mock.get(f"{BASE}/account").mock(
            side_effect=[httpx.Response(429, headers={"Retry-After": when}), httpx.Response(200, json=fx.account())]
        )
        run(lambda c: c.account_get(), sleeps=sleeps)
    assert len(sleeps.delays) == 1
    assert 25 <= sleeps.delays[0] <= 31


def test_parse_retry_after_forms() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("3", now) == 3.0
    assert parse_retry_after(formatdate(now + 12, usegmt=True), now) == pytest.approx(12, abs=1)
    assert parse_retry_after(formatdate(now - 100, usegmt=True), now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_get_503_then_200_is_retried_with_backoff() -> None:
    sleeps = Sleeps()
    with respx.mock() as mock:
        route = mock.get(f"{BASE}/predictions/p1").mock(
            side_effect=[
                httpx.Response(503, json=fx.problem(503, "busy")),
                httpx.Response(502, text="bad gateway"),
                httpx.Response(200, json=fx.prediction()),
            ]
        )
        prediction = run(lambda c: c.predictions_get("p1"), sleeps=sleeps)
    assert prediction.status == "succeeded"
    assert route.call_count == 3
    assert len(sleeps.delays) == 2 and all(d > 0 for d in sleeps.delays)


def test_query_search_is_a_read_and_retried_on_500() -> None:
    with respx.mock() as mock:
        route = mock.route(method="QUERY", url=f"{BASE}/models").mock(
            side_effect=[httpx.Response(500), httpx.Response(200, json=fx.page([]))]
        )
        run(lambda c: c.models_search("x"))
    assert route.call_count == 2


def test_post_500_on_predictions_is_not_retried() -> None:
    sleeps = Sleeps()
    with respx.mock() as mock:
        route = mock.post(f"{BASE}/predictions").respond(500, json=fx.problem(500, "internal error"))
        with pytest.raises(ApiError) as caught:
            run(lambda c: c.predictions_create({"a": 1}, version=fx.VERSION_ID), sleeps=sleeps)
    assert route.call_count == 1
    assert sleeps.delays == []
    assert caught.value.status == 500 and caught.value.detail == "internal error"


def test_post_connection_error_is_not_retried() -> None:
    with respx.mock() as mock:
        route = mock.post(f"{BASE}/models/a/b/predictions").mock(side_effect=httpx.ReadTimeout("timed out"))
        with pytest.raises(NetworkError):
            run(lambda c: c.predictions_create({}, model="a/b"))
    assert route.call_count == 1


def test_post_429_is_retried() -> None:
    sleeps = Sleeps()
    with respx.mock() as mock:
        route = mock.post(f"{BASE}/models/a/b/predictions").mock(
            side_effect=[httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(201, json=fx.prediction())]
        )
        prediction = run(lambda c: c.predictions_create({}, model="a/b"), sleeps=sleeps)
    assert route.call_count == 2 and sleeps.delays == [1.0]
    assert prediction.id == fx.PREDICTION_ID


def test_delete_503_is_not_retried() -> None:
    with respx.mock() as mock:
        route = mock.delete(f"{BASE}/files/f1").respond(503)
        with pytest.raises(ApiError):
            run(lambda c: c.files_delete("f1"))
    assert route.call_count == 1


def test_connection_error_on_get_is_retried_once_then_network_error() -> None:
    """A connection never made is tried once more, soon (issue 19.8), however many
    retries the policy allows for a server that answered."""
    sleeps = Sleeps()
    with respx.mock() as mock:
        route = mock.get(f"{BASE}/account").mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))
        with pytest.raises(NetworkError) as caught:
            run(lambda c: c.account_get(), sleeps=sleeps, retries=3)
    assert route.call_count == 2  # the first try and one retry
    assert len(sleeps.delays) == 1 and sleeps.delays[0] < 1
    assert caught.value.message == "cannot reach api.replicate.com: [Errno 111] Connection refused"
    assert caught.value.hint is not None and "REPLICATE_BASE_URL" in caught.value.hint
    assert TOKEN not in all_text(caught.value)


def test_a_create_whose_connection_failed_is_not_retried() -> None:
    """Creates retry only on 429 (SPEC 8), a failed connection included."""
    sleeps = Sleeps()
    with respx.mock() as mock:
        route = mock.post(f"{BASE}/models/a/b/predictions").mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(NetworkError):
            run(lambda c: c.predictions_create({}, model="a/b"), sleeps=sleeps)
    assert route.call_count == 1 and sleeps.delays == []


def test_connection_error_then_success() -> None:
    with respx.mock() as mock:
        mock.get(f"{BASE}/account").mock(
            side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=fx.account())]
        )
        assert run(lambda c: c.account_get()).username == "alice"


def test_retries_give_up_with_the_last_api_error() -> None:
    with respx.mock() as mock:
        route = mock.get(f"{BASE}/account").respond(503, json=fx.problem(503, "maintenance"))
        with pytest.raises(ApiError) as caught:
            run(lambda c: c.account_get(), retries=2)
    assert route.call_count == 3
    assert caught.value.message == "API error 503: maintenance"


def test_backoff_is_exponential_capped_and_jittered() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0, rand=lambda: 1.0)
    assert [policy.backoff(n) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    low = RetryPolicy(base_delay=0.5, max_delay=4.0, rand=lambda: 0.0)
    assert [low.backoff(n) for n in range(3)] == [0.25, 0.5, 1.0]
    assert RetryPolicy().delay(0, "3600") == 3600  # what the server asked; the budget decides
    assert RetryPolicy().delay(0, None, "Request was throttled. Expected available in 2 seconds.") == 2


def test_real_sleep_defaults_to_asyncio() -> None:
    assert RetryPolicy().sleep is asyncio.sleep


# ---------------------------------------------------------------------------- errors


def test_no_token_is_auth_error_before_any_request() -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.get(f"{BASE}/account").respond(200, json=fx.account())
        with pytest.raises(AuthError) as caught:
            run(lambda c: c.account_get(), token=None)
    assert not route.called
    assert caught.value.hint == AUTH_HINT == "set REPLICATE_API_TOKEN or run `rshell auth login`"


def test_401_is_auth_error_with_hint_and_no_token() -> None:
    with respx.mock() as mock:
        mock.get(f"{BASE}/account").respond(
            401, json=fx.problem(401, f"Invalid token {TOKEN}"), headers={"Content-Type": "application/problem+json"}
        )
        with pytest.raises(AuthError) as caught:
            run(lambda c: c.account_get())
    assert caught.value.hint == AUTH_HINT
    assert "Invalid token" in caught.value.message
    assert TOKEN not in all_text(caught.value)


def test_404_names_what_was_not_found() -> None:
    with respx.mock() as mock:
        mock.get(f"{BASE}/models/alice/nope").respond(404, json=fx.problem(404, "Not found."))
        with pytest.raises(ApiError) as caught:
            run(lambda c: c.models_get("alice", "nope"))
    assert caught.value.status == 404
    assert caught.value.message == "API error 404: model alice/nope not found"


def test_422_problem_json_detail_with_invalid_fields() -> None:
    body = fx.problem(
        422,
        "Input validation failed",
        invalid_fields=[{"type": "required", "field": "prompt", "description": "prompt is required"}],
    )
    with respx.mock() as mock:
        mock.post(f"{BASE}/models/a/b/predictions").respond(
            422, json=body, headers={"Content-Type": "application/problem+json"}
        )
        with pytest.raises(ApiError) as caught:
            run(lambda c: c.predictions_create({}, model="a/b"))
    assert caught.value.status == 422
    assert caught.value.detail == "Input validation failed; prompt is required"


def test_error_falls_back_to_title_then_body_text_on_one_line() -> None:
    with respx.mock() as mock:
        mock.get(f"{BASE}/hardware").respond(400, json={"title": "Bad request", "status": 400})
        mock.get(f"{BASE}/account").respond(418, text="I'm a\nteapot\n\n" + "x" * 1000)
        with pytest.raises(ApiError) as titled:
            run(lambda c: c.hardware_list())
        with pytest.raises(ApiError) as texted:
            run(lambda c: c.account_get())
    assert titled.value.detail == "Bad request"
    assert texted.value.detail.startswith("I'm a teapot x")
    assert "\n" not in texted.value.message and len(texted.value.detail) <= 300


def test_500_message_and_token_absent() -> None:
    with respx.mock() as mock:
        mock.get(f"{BASE}/account").respond(500, json=fx.problem(500, f"boom Bearer {TOKEN}"))
        with pytest.raises(ApiError) as caught:
            run(lambda c: c.account_get(), retries=0)
    assert caught.value.message == "API error 500: boom Bearer ***"


def test_network_down_against_a_closed_local_port() -> None:
    """A real refused connection (127.0.0.1, nothing listening): NetworkError, no token."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps = Sleeps()

    async def main() -> None:
        async with ReplicateClient(TOKEN, f"http://127.0.0.1:{port}", max_retries=2, sleep=sleeps) as client:
            await client.account_get()

    with pytest.raises(NetworkError) as caught:
        asyncio.run(main())
    assert caught.value.message.startswith(f"cannot reach 127.0.0.1:{port}: ")
    assert len(sleeps.delays) == 1  # one quick retry of a connection never made (issue 19.8)
    assert TOKEN not in all_text(caught.value)


def test_non_json_success_body_is_an_api_error_not_a_traceback() -> None:
    with respx.mock() as mock:
        mock.get(f"{BASE}/account").respond(200, text="<html>proxy</html>")
        with pytest.raises(ApiError) as caught:
            run(lambda c: c.account_get())
    assert "not JSON" in caught.value.message


def test_wrong_shape_is_an_api_error() -> None:
    with respx.mock() as mock:
        mock.get(f"{BASE}/account").respond(200, json={"type": "user"})
        with pytest.raises(ApiError) as caught:
            run(lambda c: c.account_get())
    assert "username" in caught.value.message


def test_token_only_sent_to_the_api_host() -> None:
    seen: dict[str, Any] = {}

    def capture(request: httpx.Request) -> httpx.Response:
        seen[request.url.host] = request.headers.get("Authorization")
        return httpx.Response(200, content=b"x")

    async def main(tmp: Any) -> None:
        async with ReplicateClient(TOKEN, BASE, max_retries=0) as client:
            await client.download("https://replicate.delivery/pbxt/a/out.png", tmp / "a.png")
            await client.download(f"{BASE}/files/f1/download", tmp / "b.bin")

    import tempfile
    from pathlib import Path

    with respx.mock() as mock, tempfile.TemporaryDirectory() as tmp:
        mock.get("https://replicate.delivery/pbxt/a/out.png").mock(side_effect=capture)
        mock.get(f"{BASE}/files/f1/download").mock(side_effect=capture)
        asyncio.run(main(Path(tmp)))
    assert seen == {"replicate.delivery": None, "api.replicate.com": f"Bearer {TOKEN}"}


@pytest.mark.parametrize("body, waited", [({"detail": "slow", "retry_after": 7}, 7.0), ({"retry_after": "3"}, 3.0)])
def test_429_with_retry_after_in_the_body_is_honoured_like_the_header(body, waited) -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/predictions").mock(
            side_effect=[httpx.Response(429, json=body), httpx.Response(201, json=fx.prediction())]
        )

        async def go() -> None:
            async with ReplicateClient("r8_fake-token", BASE, sleep=sleep) as c:
                await c.predictions_create({"prompt": "x"}, version=fx.VERSION_ID)

        asyncio.run(go())
    assert route.call_count == 2 and sleeps == [waited]


def test_429_header_wins_over_the_body() -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    with respx.mock(base_url=BASE) as mock:
        mock.get("/account").mock(
            side_effect=[
                httpx.Response(429, headers={"Retry-After": "2"}, json={"retry_after": 9}),
                httpx.Response(200, json=fx.account()),
            ]
        )

        async def go() -> None:
            async with ReplicateClient("r8_fake-token", BASE, sleep=sleep) as c:
                await c.account_get()

        asyncio.run(go())
    assert sleeps == [2.0]
