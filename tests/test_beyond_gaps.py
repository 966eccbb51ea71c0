"""Issue 23 item 5, against the live sandbox: `model versions show` (the one read the
official clients have) and `run … --input-json` (the whole input, merged with
key=value words, validated like them)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from rsh import rsh

from rshell.commands.context import Environment
from rshell.errors import UsageError

MODEL = "rshell/echo"


def _created(sandbox: Any) -> list[dict]:
    return list(sandbox.sandbox.store.values("predictions"))


VERSIONED = "rshell/pixels"  # not official: its versions are listed and read, as on Replicate


def test_versions_show_reads_that_one_version(sandbox) -> None:
    version = str(sandbox.sandbox.latest_version(VERSIONED)["id"])
    ran = rsh(f"model versions show {VERSIONED}:{version}", api=(sandbox.url, sandbox.token))
    assert ran.code == 0, ran.stderr
    assert ran.json["id"] == version
    assert "prompt" in ran.json["openapi_schema"]["components"]["schemas"]["Input"]["properties"]
    text = rsh(f"model versions show {VERSIONED}:{version}", api=(sandbox.url, sandbox.token), json_mode=False)
    assert text.code == 0, text.stderr
    assert version in text.stdout
    assert "prompt" in text.stdout  # the inputs are listed


def test_versions_show_of_an_unknown_version_is_a_404_naming_it(sandbox) -> None:
    ran = rsh(f"model versions show {VERSIONED}:0000deadbeef", api=(sandbox.url, sandbox.token))
    assert ran.code == 1
    assert "0000deadbeef" in ran.error.message


def test_versions_show_without_a_version_sends_nothing(sandbox) -> None:
    ran = rsh(f"model versions show {MODEL}", api=(sandbox.url, sandbox.token))
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "owner/name:VERSION" in (ran.error.hint or "")


def test_input_json_from_a_file_is_merged_with_words_that_win(sandbox, tmp_path: Path) -> None:
    inputs = tmp_path / "inputs.json"
    inputs.write_text(json.dumps({"text": "from file", "times": 2, "upper": True}))
    ran = rsh(f"run {MODEL} --input-json @{inputs} times=3", api=(sandbox.url, sandbox.token))
    assert ran.code == 0, ran.stderr
    assert ran.json["input"] == {"text": "from file", "times": 3, "upper": True}
    assert ran.json["output"] == "FROM FILE FROM FILE FROM FILE"


def test_input_json_from_stdin_and_inline(sandbox) -> None:
    env = Environment(stdin=io.StringIO('{"text": "piped"}'))
    ran = rsh(f"run {MODEL} --input-json -", api=(sandbox.url, sandbox.token), env=env)
    assert ran.code == 0, ran.stderr
    assert ran.json["output"] == "piped"
    inline = rsh(f"""run {MODEL} --input-json '{{"text": "inline"}}' upper=true""", api=(sandbox.url, sandbox.token))
    assert inline.code == 0, inline.stderr
    assert inline.json["output"] == "INLINE"


def test_input_json_is_validated_against_the_schema_before_any_create(sandbox, tmp_path: Path) -> None:
    inputs = tmp_path / "inputs.json"
    inputs.write_text(json.dumps({"text": "x", "times": 99}))
    before = len(_created(sandbox))
    ran = rsh(f"run {MODEL} --input-json @{inputs}", api=(sandbox.url, sandbox.token))
    assert ran.code == 2, ran.stderr
    assert "times" in ran.error.message
    assert len(_created(sandbox)) == before


def test_input_json_that_is_not_an_object_is_a_usage_error(sandbox, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    for given, said in ((f"@{bad}", "not JSON"), ("'[1]'", "JSON object"), (f"@{tmp_path}/missing.json", "missing")):
        ran = rsh(f"run {MODEL} --input-json {given}", api=(sandbox.url, sandbox.token))
        assert ran.code == 2, (given, ran.stderr)
        assert said in ran.error.message, ran.error.message
        assert "\n" not in ran.error.message


def test_input_json_completes_the_path_after_its_at(tmp_path: Path) -> None:
    import asyncio

    import respx
    from test_completion_support import make_rig

    (tmp_path / "inputs.json").write_text("{}")

    async def main() -> list[tuple[str, int]]:
        with respx.mock(assert_all_called=False) as router:
            rig = make_rig(router)
            rig.engine.cwd = tmp_path
            try:
                return [(c.text, c.start) for c in rig.engine.complete("run a/b --input-json @inp")]
            finally:
                await rig.client.aclose()

    assert asyncio.run(main()) == [("inputs.json", -3)]
