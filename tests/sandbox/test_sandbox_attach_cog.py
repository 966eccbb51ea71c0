"""`start(cogs={NAME: URL})`: a running Cog server becomes a sandbox model, served
through the whole API (the Cog server is the real `cog` package's, as in
test_cog_attach)."""

from __future__ import annotations

import httpx
import pytest
from conftest import checked_client
from test_cog_attach import _free_port, serve_cog

from rshell.errors import NetworkError
from rshell.sandbox.server import start


def test_a_cog_server_is_hosted_as_a_model(tmp_path):
    (tmp_path / "cog").mkdir()
    with (
        serve_cog(tmp_path / "cog") as cog_url,
        start(tmp_path / "data", predictors={}, cogs={"sandbox/writer": cog_url}) as handle,
        checked_client(handle) as client,
    ):
        model = client.get("/models/sandbox/writer").json()
        props = model["latest_version"]["openapi_schema"]["components"]["schemas"]["Input"]["properties"]
        assert {"text", "times", "style"} <= set(props)
        assert model["is_official"] is False  # a model of your own runs by version
        version = model["latest_version"]["id"]
        bad = client.post("/predictions", json={"version": version, "input": {"text": "x", "times": 9}})
        assert bad.status_code == 422 and bad.json()["detail"].startswith("input.times")
        done = client.post(
            "/predictions", json={"version": version, "input": {"text": "hi", "times": 2}}, headers={"Prefer": "wait"}
        ).json()
        assert done["status"] == "succeeded", done.get("error")
        assert done["output"].startswith(handle.root + "/delivery/")
        assert httpx.get(done["output"]).text == "hi\nhi\n"
        assert "writing 2 line(s)" in done["logs"]


def test_an_unreachable_cog_server_stops_start_with_a_network_error(tmp_path):
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(NetworkError):
        start(tmp_path / "data", predictors={}, cogs={"sandbox/gone": url})
