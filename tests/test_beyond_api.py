"""Issue 23 item 4, against the live sandbox: `api METHOD PATH` sends any request to
the API host with the token and the client's retries, prints the JSON answer, and
`--paginate` walks a GET list's `next` links, bounded."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rsh import rsh

from rshell.commands.context import Environment
from rshell.errors import UsageError


def _on(sandbox) -> tuple[str, str]:
    return (sandbox.url, sandbox.token)


def test_a_get_prints_the_json_answer_with_or_without_v1(sandbox) -> None:
    for path in ("/account", "account", "/v1/account"):
        ran = rsh(f"api GET {path}", api=_on(sandbox), json_mode=False)
        assert ran.code == 0, ran.stderr
        assert json.loads(ran.stdout)["type"] in ("user", "organization")
        assert sandbox.token not in ran.stdout + ran.stderr


def test_query_parameters_and_a_404_with_the_servers_detail(sandbox) -> None:
    ran = rsh("api GET /models sort_by=model_created_at sort_direction=asc", api=_on(sandbox))
    assert ran.code == 0, ran.stderr
    assert isinstance(ran.json["results"], list)
    missing = rsh("api GET /models/nobody/nothing", api=_on(sandbox))
    assert missing.code == 1
    assert "404" in missing.stderr and "Traceback" not in missing.stderr


def test_a_post_with_fields_creates_and_a_body_file_too(sandbox, tmp_path: Path) -> None:
    before = len(sandbox.sandbox.store.values("predictions"))
    ran = rsh('api POST /models/rshell/echo/predictions input=\'{"text": "raw"}\'', api=_on(sandbox))
    assert ran.code == 0, ran.stderr
    assert ran.json["input"]["text"] == "raw"
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"input": {"text": "from file"}}))
    filed = rsh(f"api POST /models/rshell/echo/predictions --input {body}", api=_on(sandbox))
    assert filed.code == 0, filed.stderr
    assert filed.json["input"]["text"] == "from file"
    piped = rsh(
        "api POST /models/rshell/echo/predictions --input -",
        api=_on(sandbox),
        env=Environment(stdin=io.StringIO('{"input": {"text": "stdin"}}')),
    )
    assert piped.code == 0, piped.stderr
    assert len(sandbox.sandbox.store.values("predictions")) == before + 3


def test_paginate_gathers_every_page_of_a_list(sandbox) -> None:
    for n in range(3):
        assert rsh(f"run rshell/echo text=p{n} --no-wait", api=_on(sandbox)).code == 0
    one_page = rsh("api GET /predictions", api=_on(sandbox))
    everything = rsh("api GET /predictions --paginate", api=_on(sandbox))
    assert everything.code == 0, everything.stderr
    assert len(everything.json["results"]) >= 3
    assert len(everything.json["results"]) >= len(one_page.json["results"])
    assert everything.json["next"] is None


def test_usage_errors_send_nothing(sandbox) -> None:
    before = len(sandbox.sandbox.store.values("predictions"))
    for line, said in (
        ("api FETCH /account", "unknown HTTP method"),
        ("api POST /models/rshell/echo/predictions nokey", "key=value"),
        ("api POST /predictions --paginate", "--paginate"),
        ("api GET http://example.com/v1/account", "not the API host"),
        ("api POST /models/rshell/echo/predictions a=1 --input /dev/null", "not both"),
    ):
        ran = rsh(line, api=_on(sandbox))
        assert ran.code == 2, (line, ran.stderr)
        assert isinstance(ran.error, UsageError) and said in ran.error.message, ran.error.message
    assert len(sandbox.sandbox.store.values("predictions")) == before


def test_a_write_in_dry_run_is_printed_not_sent(sandbox) -> None:
    before = len(sandbox.sandbox.store.values("predictions"))
    ran = rsh('api POST /models/rshell/echo/predictions input=\'{"text": "x"}\'', api=_on(sandbox), dry_run=True)
    assert "POST" in ran.stdout and "/models/rshell/echo/predictions" in ran.stdout, ran.stdout + ran.stderr
    assert len(sandbox.sandbox.store.values("predictions")) == before


def test_api_completes_methods_then_the_specs_paths() -> None:
    import asyncio

    import respx
    from test_completion_support import make_rig

    async def main() -> tuple[list[str], list[str], list[str]]:
        with respx.mock(assert_all_called=False) as router:
            rig = make_rig(router)
            try:
                return rig.texts("api "), rig.texts("api GET /models/"), rig.texts("api POST /")
            finally:
                await rig.client.aclose()

    methods, model_paths, post_paths = asyncio.run(main())
    assert methods[:2] == ["GET", "POST"] and "QUERY" in methods
    assert "/models/{model_owner}/{model_name}" in model_paths
    assert "/predictions" in post_paths and post_paths.index("/predictions") < post_paths.index("/account")


def test_api_help_is_the_catalogs() -> None:
    ran = rsh("help api", json_mode=False)
    assert ran.code == 0
    assert "usage: api <method> <path>" in ran.stdout and "--paginate" in ran.stdout
