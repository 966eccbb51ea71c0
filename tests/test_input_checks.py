"""Inputs checked before money is spent (issue 19 items 3-7, 10), against the sandbox.

Each test counts what the sandbox was asked (the `counted` fixture): a refused input
is exit 2 and no create.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rsh import rsh

from rshell.sandbox.predictors.png import encode
from rshell.session.state import Session


def creates(seen: list[str]) -> list[str]:
    """The requests that made something (a prediction, a training, an upload)."""
    return [line for line in seen if line.startswith("POST ")]


def api_of(handle: Any) -> tuple[str, str]:
    return handle.url, handle.token


def fox_png(folder: Path) -> Path:
    """A real 2x2 PNG at folder/out/fox.png, as a run's --save leaves it."""
    path = folder / "out" / "fox.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode(2, 2, [b"\xff\x00\x00" * 2] * 2, 3))
    return path


# -- item 3: file inputs take a URL, a data: URL or @path ---------------------------------------


def test_a_path_without_its_at_sign_is_refused_with_the_fix(counted, tmp_path: Path, monkeypatch) -> None:
    handle, seen = counted
    monkeypatch.chdir(tmp_path)
    fox_png(tmp_path)
    done = rsh("run rshell/upscale image=out/fox.png", api=api_of(handle))
    assert done.code == 2, done.stderr
    assert "input 'image' wants a URL or @file" in done.stderr
    assert "did you mean image=@out/fox.png?" in done.stderr
    assert creates(seen) == []


def test_text_from_a_language_model_is_refused_as_a_file_input(counted) -> None:
    handle, seen = counted
    session = Session()
    story = rsh("story = run rshell/tinylm prompt=fox max_tokens=3", api=api_of(handle), session=session)
    assert story.code == 0, story.stderr
    before = len(creates(seen))
    done = rsh("run rshell/upscale image={{story.output}}", api=api_of(handle), session=session)
    assert done.code == 2, done.stderr
    assert "input 'image' wants a URL or @file" in done.stderr
    assert done.stderr.count("wants a URL") == 1  # said once
    assert len(creates(seen)) == before


def test_a_list_of_urls_is_refused_with_the_index_to_pick(counted) -> None:
    handle, seen = counted
    done = rsh("run rshell/pixels prompt=fox | run rshell/upscale image={{.output}}", api=api_of(handle))
    assert done.code == 2, done.stderr
    assert "input 'image' wants a URL or @file, got a list" in done.stderr
    assert "{{.output[0]}}" in done.stderr
    assert creates(seen) == ["POST /v1/predictions"]  # the pixels run only


@pytest.mark.parametrize("value", ["@out/fox.png", "'data:image/png;base64,iVBORw0KGgo='"])
def test_a_file_or_data_url_is_still_sent(counted, tmp_path: Path, monkeypatch, value: str) -> None:
    handle, seen = counted
    monkeypatch.chdir(tmp_path)
    fox_png(tmp_path)
    done = rsh(f"run rshell/upscale image={value} --file-encoding data", api=api_of(handle))
    assert creates(seen), done.stderr  # it was sent (the fake PNG of the data: case may fail on the server)


def test_an_output_url_chains_into_a_file_input(counted) -> None:
    handle, seen = counted
    done = rsh("run rshell/pixels prompt=fox | run rshell/upscale image={{.output[0]}}", api=api_of(handle))
    assert done.code == 0, done.stderr
    assert len(creates(seen)) == 2


# -- item 4: a bound name where an id is expected ----------------------------------------------


def test_prediction_show_save_and_logs_take_a_bound_name(counted, tmp_path: Path) -> None:
    handle, _ = counted
    session = Session()
    made = rsh("img = run rshell/pixels prompt=fox", api=api_of(handle), session=session)
    assert made.code == 0, made.stderr
    pid = session.variables["img"]["id"]
    shown = rsh("prediction show img", api=api_of(handle), session=session)
    assert shown.code == 0, shown.stderr
    assert shown.json["id"] == pid
    waited = rsh("prediction wait img _", api=api_of(handle), session=session)  # `_`: the one just shown
    assert waited.code == 0, waited.stderr
    assert [run["id"] for run in waited.json] == [pid, pid]
    assert rsh("prediction logs img", api=api_of(handle), session=session).code == 0
    for word in ("img", "$img"):
        folder = tmp_path / word.strip("$")
        saved = rsh(f"prediction save {word} --output-directory {folder}", api=api_of(handle), session=session)
        assert saved.code == 0, saved.stderr
        assert list(folder.iterdir())


def test_prediction_cancel_takes_a_bound_name(counted) -> None:
    handle, _ = counted
    session = Session()
    started = rsh("w = run rshell/tinylm prompt=x max_tokens=300 --no-wait", api=api_of(handle), session=session)
    assert started.code == 0, started.stderr
    canceled = rsh("prediction cancel w", api=api_of(handle), session=session)
    assert canceled.code == 0, canceled.stderr
    assert canceled.json["id"] == session.variables["w"]["id"]
    assert canceled.json["status"] in ("canceled", "canceling")


def test_training_show_and_logs_take_a_bound_name(counted) -> None:
    handle, _ = counted
    session = Session()
    zipped = Path(__file__).resolve().parents[1] / "examples" / "data" / "palette.zip"
    lines = (
        "model create sandbox/mine --hardware cpu",
        f"job = train rshell/palette-trainer --destination sandbox/mine input_images=@{zipped} steps=2",
    )
    for line in lines:
        done = rsh(line, api=api_of(handle), session=session)
        assert done.code == 0, done.stderr
    shown = rsh("training show job", api=api_of(handle), session=session)
    assert shown.code == 0, shown.stderr
    assert shown.json["id"] == session.variables["job"]["id"]
    assert rsh("training logs job", api=api_of(handle), session=session).code == 0
    canceled = rsh("training cancel job", api=api_of(handle), session=session)
    assert canceled.code == 0, canceled.stderr
    assert canceled.json["id"] == session.variables["job"]["id"]
    wrong = rsh("prediction show job", api=api_of(handle), session=session)
    assert wrong.code == 2 and "'job' holds a training, not a prediction" in wrong.stderr


def test_a_value_that_is_no_run_is_named_not_pasted(counted) -> None:
    handle, seen = counted
    session = Session(variables={"cfg": {"prompt": "x" * 2000, "seed": 1}})
    done = rsh("prediction save $cfg", api=api_of(handle), session=session)
    assert done.code == 2, done.stderr
    assert "xxxxxxxxxx" not in done.stderr and len(done.stderr) < 300
    assert seen == []


def test_an_id_wins_over_a_name_that_spells_it(counted) -> None:
    handle, _ = counted
    session = Session()
    first = rsh("a = run rshell/echo text=1", api=api_of(handle), session=session)
    second = rsh("b = run rshell/echo text=2", api=api_of(handle), session=session)
    assert first.code == second.code == 0
    a_id = session.variables["a"]["id"]
    session.variables[a_id] = session.variables["b"]  # a name that is also an id
    shown = rsh(f"prediction show {a_id}", api=api_of(handle), session=session)
    assert shown.code == 0, shown.stderr
    assert shown.json["id"] == a_id


# -- item 5: a version id as tables show it (12 characters) --------------------------------------


def test_a_short_version_id_runs_that_version(counted) -> None:
    handle, seen = counted
    session = Session()
    shown = rsh("m = model show rshell/pixels", api=api_of(handle), session=session)
    assert shown.code == 0, shown.stderr
    version = session.variables["m"]["latest_version"]["id"]
    done = rsh(f"run rshell/pixels:{version[:12]} prompt=x width=16 height=16", api=api_of(handle), session=session)
    assert done.code == 0, done.stderr
    assert done.json["version"] == version
    assert creates(seen) == ["POST /v1/predictions"]


def test_a_short_version_id_that_matches_none_is_refused(counted) -> None:
    handle, seen = counted
    done = rsh("run rshell/pixels:0123456789ab prompt=x", api=api_of(handle))
    assert done.code == 2, done.stderr
    assert "no version of rshell/pixels starts with 0123456789ab" in done.stderr
    assert creates(seen) == []


def version_object(version_id: str) -> dict[str, Any]:
    return {
        "id": version_id,
        "created_at": "2026-01-01T00:00:00.000Z",
        "cog_version": "0.9.0",
        "openapi_schema": {},
    }


def test_an_ambiguous_short_version_id_lists_the_candidates(hostile) -> None:
    from hostile_server import reply_json

    first, second = "2c7a486c9976" + "a" * 52, "2c7a486c9976" + "b" * 52
    listing = {"next": None, "previous": None, "results": [version_object(first), version_object(second)]}
    hostile.route("GET /v1/models/o/m/versions", reply_json(listing))
    done = rsh("run o/m:2c7a486c9976 prompt=x", api=(hostile.url, hostile.token))
    assert done.code == 2, done.stderr
    assert "o/m:2c7a486c9976 could be any of 2 versions" in done.stderr
    assert first in done.stderr and second in done.stderr
    assert hostile.paths("POST") == []


# -- item 10: a malformed schema from the server ----------------------------------------------

MALFORMED_SCHEMAS = [
    {"components": {"schemas": {"Input": {"type": "object", "properties": "notadict"}}}},
    {
        "components": {
            "schemas": {"Input": {"type": "object", "properties": {"prompt": {"type": "string"}}, "required": "prompt"}}
        }
    },
    {"components": {"schemas": "notadict"}},
    {"components": ["a", "list"]},
    {
        "components": {
            "schemas": {"Input": {"properties": {"prompt": {"type": "string", "x-order": "first"}}, "required": [1]}}
        }
    },
]


@pytest.mark.parametrize("schema", MALFORMED_SCHEMAS)
def test_a_malformed_input_schema_is_one_line_and_inputs_go_unchecked(hostile, schema: dict[str, Any]) -> None:
    from hostile_server import model, prediction, reply_json

    version = {**version_object("f" * 64), "openapi_schema": schema}
    hostile.route("GET /v1/models/o/m", reply_json(model("o", "m", latest_version=version, is_official=False)))
    hostile.route("POST /v1/predictions", reply_json(prediction(output="done"), 201))
    done = rsh("run o/m prompt=x", api=(hostile.url, hostile.token))
    assert "internal error" not in done.stderr
    assert "model o/m: its input schema is malformed; inputs sent unchecked" in done.stderr
    assert done.code == 0, done.stderr
    assert hostile.count("POST", "/v1/predictions") == 1


@pytest.mark.parametrize("schema", MALFORMED_SCHEMAS)
@pytest.mark.parametrize("line", ["model schema o/m", "model show o/m"])
def test_a_malformed_schema_is_shown_without_an_internal_error(hostile, line: str, schema: dict[str, Any]) -> None:
    from hostile_server import model, reply_json

    version = {**version_object("f" * 64), "openapi_schema": schema}
    hostile.route("GET /v1/models/o/m", reply_json(model("o", "m", latest_version=version, is_official=False)))
    done = rsh(line, api=(hostile.url, hostile.token), json_mode=False)
    assert "internal error" not in done.stderr
    assert "Traceback" not in done.stderr


# -- item 6: an alias never hides a built-in ------------------------------------------------------


@pytest.mark.parametrize("name", ["run", "prediction", "p", "models", "replicate", "wait"])
def test_an_alias_named_like_a_built_in_is_refused(name: str) -> None:
    session = Session()
    done = rsh(f"alias {name}='run rshell/echo'", session=session)
    assert done.code == 2, done.stderr
    assert f"'{name}' is a built-in" in done.stderr
    assert session.aliases == {}


def test_a_script_that_shadows_a_built_in_stops_at_the_alias_line(counted, tmp_path: Path) -> None:
    handle, seen = counted
    script = tmp_path / "s.rsh"
    script.write_text("alias run='run rshell/echo'\nrun rshell/pixels prompt=x\n")
    done = rsh(script.read_text(), api=api_of(handle), source=str(script))
    assert done.code == 2, done.stderr
    assert f"{script}:1: 'run' is a built-in" in done.stderr
    assert seen == []


def test_an_error_inside_an_alias_names_the_alias(counted) -> None:
    handle, seen = counted
    session = Session(aliases={"run": "run rshell/echo"})  # kept from before aliases were checked
    done = rsh("run rshell/pixels prompt=x", api=api_of(handle), session=session)
    assert done.code == 2, done.stderr
    assert "in alias run='run rshell/echo': expected key=value, got 'rshell/pixels'" in done.stderr
    session.variables["m"] = "rshell/pixels"
    templated = rsh("run $m prompt=x", api=api_of(handle), session=session)  # found while running
    assert templated.code == 2, templated.stderr
    assert "in alias run='run rshell/echo'" in templated.stderr
    assert seen == []


def test_a_good_alias_still_works(counted) -> None:
    handle, _ = counted
    session = Session()
    assert rsh("alias say='run rshell/echo'", session=session).code == 0
    done = rsh("say text=hi", api=api_of(handle), session=session)
    assert done.code == 0, done.stderr


# -- item 7: did-you-mean for model names and enum values -----------------------------------------


def test_an_enum_value_typo_gets_a_did_you_mean(counted) -> None:
    handle, seen = counted
    done = rsh("run rshell/pixels prompt=x style=blokcs", api=api_of(handle))
    assert done.code == 2, done.stderr
    assert "did you mean 'blocks'?" in done.stderr
    assert creates(seen) == []


def test_a_model_name_typo_gets_a_did_you_mean_from_search(counted) -> None:
    handle, seen = counted
    done = rsh("run rshell/pixls prompt=x", api=api_of(handle))
    assert done.code != 0
    assert "rshell/pixls" in done.stderr.splitlines()[0]  # the error itself stays
    assert "did you mean rshell/pixels?" in done.stderr
    assert creates(seen) == []


def test_a_model_name_typo_gets_a_did_you_mean_from_the_completion_cache(hostile, tmp_path: Path, monkeypatch) -> None:
    from rshell.completion.cache import CompletionCache, ModelInfo, default_path

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cache = CompletionCache(default_path(hostile.url))
    cache.put_models([ModelInfo("stability-ai/sdxl")])
    cache.save()
    done = rsh("run stability-ai/sdxll prompt=x", api=(hostile.url, hostile.token))
    assert done.code != 0
    assert "did you mean stability-ai/sdxl?" in done.stderr
    assert hostile.paths("POST") == []


def test_model_show_of_a_typo_gets_the_did_you_mean_too(counted) -> None:
    handle, _ = counted
    done = rsh("model show rshell/tinylmm", api=api_of(handle))
    assert done.code != 0
    assert "did you mean rshell/tinylm?" in done.stderr


def test_an_optional_file_input_written_as_any_of_is_checked_too() -> None:
    from rshell.errors import UsageError
    from rshell.grammar.inputs import validate

    schema = {"properties": {"mask": {"anyOf": [{"type": "string", "format": "uri"}, {"type": "null"}]}}}
    validate({"mask": "https://example.com/m.png"}, schema)
    validate({"mask": None}, schema)
    with pytest.raises(UsageError, match="input 'mask' wants a URL or @file"):
        validate({"mask": "m.png"}, schema)


def test_scaffold_takes_a_bound_name(counted, tmp_path: Path, monkeypatch) -> None:
    handle, _ = counted
    monkeypatch.chdir(tmp_path)
    session = Session()
    assert rsh("img = run rshell/pixels prompt=fox", api=api_of(handle), session=session).code == 0
    done = rsh("scaffold img starter", api=api_of(handle), session=session)
    assert done.code == 0, done.stderr
    assert done.json["prediction"] == session.variables["img"]["id"]
    assert done.json["model"] == "rshell/pixels"


def test_model_versions_delete_takes_a_unique_short_id_and_deletes_that_version(hostile) -> None:
    from hostile_server import Reply, reply_json

    full, other = "2c7a486c9976" + "a" * 52, "9" * 64
    listing = {"next": None, "previous": None, "results": [version_object(full), version_object(other)]}
    hostile.route("GET /v1/models/o/m/versions", reply_json(listing))
    hostile.route(f"DELETE /v1/models/o/m/versions/{full}", Reply(202))
    done = rsh("model versions delete o/m:2c7a486c9976", api=(hostile.url, hostile.token))
    assert done.code == 0, done.stderr
    assert hostile.paths("DELETE") == [f"/v1/models/o/m/versions/{full}"]


# -- a version as tables show it, for a deployment too ------------------------------------------


def _pixels_version(handle: Any, session: Session) -> str:
    shown = rsh("m = model show rshell/pixels", api=api_of(handle), session=session)
    assert shown.code == 0, shown.stderr
    return str(session.variables["m"]["latest_version"]["id"])


def test_deployment_create_takes_a_short_version_id(counted) -> None:
    handle, seen = counted
    session = Session()
    version = _pixels_version(handle, session)
    done = rsh(
        f"deployments create short-v --model rshell/pixels --version {version[:12]}",
        api=api_of(handle),
        session=session,
    )
    assert done.code == 0, done.stderr
    assert done.json["current_release"]["version"] == version
    assert creates(seen) == ["POST /v1/deployments"]


def test_deployment_create_with_a_short_version_in_the_model_reference(counted) -> None:
    handle, _ = counted
    session = Session()
    version = _pixels_version(handle, session)
    done = rsh(f"deployments create short-m --model rshell/pixels:{version[:12]}", api=api_of(handle), session=session)
    assert done.code == 0, done.stderr
    assert done.json["current_release"]["version"] == version


def test_deployment_update_takes_a_short_version_id_of_its_model(counted) -> None:
    handle, seen = counted
    session = Session()
    version = _pixels_version(handle, session)
    made = rsh(
        f"deployments create short-u --model rshell/pixels --version {version}", api=api_of(handle), session=session
    )
    assert made.code == 0, made.stderr
    done = rsh(f"deployments update short-u --version {version[:12]}", api=api_of(handle), session=session)
    assert done.code == 0, done.stderr
    assert done.json["current_release"]["version"] == version
    assert any(s.startswith("PATCH /v1/deployments/") and s.endswith("/short-u") for s in seen)


def test_a_deployment_version_that_matches_none_sends_no_create(counted) -> None:
    handle, seen = counted
    done = rsh("deployments create short-x --model rshell/pixels --version 0123456789ab", api=api_of(handle))
    assert done.code == 2, done.stderr
    assert "no version of rshell/pixels starts with 0123456789ab" in done.stderr
    assert creates(seen) == []
