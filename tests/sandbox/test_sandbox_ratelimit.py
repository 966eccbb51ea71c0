"""Rate limiting: a token bucket per API token; beyond it, 429 with Retry-After."""

from __future__ import annotations

import httpx
import pytest
from conftest import checked_client

from rshell.sandbox.ratelimit import RateLimiter, retry_after
from rshell.sandbox.server import start


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_the_rate_then_says_how_long_to_wait():
    clock = Clock()
    limiter = RateLimiter(2.0, clock=clock)
    assert [limiter.acquire("t") for _ in range(2)] == [0.0, 0.0]
    assert limiter.acquire("t") == pytest.approx(0.5)
    assert limiter.acquire("other") == 0.0  # buckets are per token
    clock.now = 0.5
    assert limiter.acquire("t") == 0.0
    clock.now = 100.0
    assert [limiter.acquire("t") for _ in range(3)][:2] == [0.0, 0.0]  # refills only up to the burst


def test_retry_after_is_whole_seconds_rounded_up():
    assert retry_after(0.01) == "1"
    assert retry_after(1.2) == "2"


def test_beyond_the_rate_the_server_answers_429_with_retry_after(tmp_path):
    with start(tmp_path / "d", predictors={}, rate_limit=0.5) as handle, checked_client(handle) as client:
        assert client.get("/account").status_code == 200
        throttled = client.get("/account")
        assert throttled.status_code == 429
        assert throttled.headers["retry-after"] == "2"
        assert "throttled" in throttled.json()["detail"]
        other = httpx.get(handle.url + "/account", headers={"Authorization": "Bearer someone-else"})
        assert other.status_code == 200  # another token has its own bucket


def test_no_limit_by_default(tmp_path):
    with start(tmp_path / "d", predictors={}) as handle, checked_client(handle) as client:
        assert {client.get("/hardware").status_code for _ in range(30)} == {200}
