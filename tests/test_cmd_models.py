"""`model …` handlers against a respx-mocked API: requests, summaries and errors."""

from __future__ import annotations

import api_fixtures as fx
import pytest
from rsh import BASE, body_of, mocked

from rshell.errors import ApiError, RshellError, UsageError
from rshell.session.state import Session

# list and search -------------------------------------------------------------------


def test_list_is_a_table_of_name_runs_and_description(api, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    models = [fx.model(), fx.model("black-forest-labs", "flux-schnell", run_count=950, description="Fast images")]
    api.get("/models").respond(200, json=fx.page(models))
    ran = mocked("model list")
    lines = ran.stdout.splitlines()
    assert lines[0].split() == ["MODEL", "RUNS", "DESCRIPTION"]
    assert lines[1].split()[:2] == ["stability-ai/sdxl", "75.8M"]
    assert lines[2].split()[:2] == ["black-forest-labs/flux-schnell", "950"]
    assert lines[2].endswith("Fast images")
    # the description column starts at the same place on every line
    assert lines[1].index("A text-to-image") == lines[2].index("Fast images") == lines[0].index("DESCRIPTION")
    assert ran.data["results"][1]["name"] == "flux-schnell"


def test_list_truncates_descriptions_to_the_terminal_width(api, monkeypatch):
    monkeypatch.setenv("COLUMNS", "50")
    api.get("/models").respond(200, json=fx.page([fx.model()], next=f"{BASE}/models?cursor=abc"))
    ran = mocked("model list")
    rows = ran.stdout.splitlines()
    assert all(len(line) <= 50 for line in rows[:2])
    assert rows[1].endswith("…")
    assert rows[-1] == "(next page: model list --cursor abc)"
    # the data keeps the whole description: only the summary is cut
    assert ran.data["results"][0]["description"] == fx.model()["description"]


def test_search_sends_the_query_as_the_body_of_a_QUERY_request(api):
    route = api.route(method="QUERY", path="/models").respond(200, json=fx.page([fx.model()]))
    ran = mocked("model search 'text to image'")
    assert route.calls.last.request.content == b"text to image"
    assert "stability-ai/sdxl" in ran.stdout


def test_empty_search_results_say_so(api):
    api.route(method="QUERY", path="/models").respond(200, json=fx.page([]))
    assert mocked("model search zzzz").stdout == "no models\n"


# show ------------------------------------------------------------------------------


def test_show_prints_labelled_lines(api, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # one line a field (narrower terminals wrap the description)
    api.get("/models/stability-ai/sdxl").respond(200, json=fx.model())
    ran = mocked("model show stability-ai/sdxl")
    lines = dict(line.split(":", 1) for line in ran.stdout.splitlines())
    assert lines["model"].strip() == "stability-ai/sdxl"
    assert lines["visibility"].strip() == "public"
    assert lines["runs"].strip() == "75,829,102"
    assert lines["latest version"].strip().startswith(fx.VERSION_ID)
    assert ran.data["url"] == "https://replicate.com/stability-ai/sdxl"


def test_show_of_a_missing_model_is_an_api_error_with_the_detail(api):
    api.get("/models/alice/nope").respond(404, json=fx.problem(404, "Model not found"))
    api.get("/search").respond(200, json={"query": "", "models": [], "collections": [], "pages": []})  # did you mean?
    ran = mocked("model show alice/nope")
    assert ran.code == 1 and isinstance(ran.error, ApiError)
    assert ran.error.status == 404
    assert "not found" in ran.error.message.lower()


def test_show_web_opens_the_model_page(api, monkeypatch):
    import webbrowser

    api.get("/models/stability-ai/sdxl").respond(200, json=fx.model())
    opened: list[str] = []
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(webbrowser, "get", lambda *a: object())
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: opened.append(url) or True)
    ran = mocked("model show stability-ai/sdxl --web")
    assert opened == ["https://replicate.com/stability-ai/sdxl"]
    assert "opened https://replicate.com/stability-ai/sdxl" in ran.stderr
    assert ran.stdout.splitlines()[0].split() == ["model:", "stability-ai/sdxl"]


def test_show_web_prints_the_url_when_there_is_no_browser(api, monkeypatch):
    import webbrowser

    api.get("/models/stability-ai/sdxl").respond(200, json=fx.model())
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(webbrowser, "open", lambda *a, **k: pytest.fail("must not launch a console browser"))
    ran = mocked("model show stability-ai/sdxl --web")
    assert ran.stderr.strip() == "https://replicate.com/stability-ai/sdxl"


@pytest.mark.parametrize("word", ["sdxl", "a/b/c", "/sdxl", "a b/c", "a/b:"])
def test_a_bad_model_name_is_a_usage_error_before_any_request(api, word):
    ran = mocked(f"model show '{word}'")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert api.calls.call_count == 0


def test_show_accepts_a_version_and_ignores_it_as_the_official_cli_does(api, monkeypatch):
    from rshell.commands import running

    monkeypatch.setattr(running, "_has_browser", lambda: False)
    route = api.get("/models/stability-ai/sdxl").respond(200, json=fx.model())
    ran = mocked(f"model view stability-ai/sdxl:{fx.VERSION_ID} --web")
    assert route.call_count == 1 and ran.data["name"] == "sdxl"
    assert f"ignoring version {fx.VERSION_ID}" in ran.stderr
    assert f"https://replicate.com/stability-ai/sdxl/versions/{fx.VERSION_ID}" in ran.stderr


# schema ----------------------------------------------------------------------------


def test_schema_lists_inputs_in_x_order_with_types_defaults_and_constraints(api, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    api.get("/models/stability-ai/sdxl").respond(200, json=fx.model())
    ran = mocked("model schema stability-ai/sdxl")
    lines = ran.stdout.splitlines()
    assert lines[0] == f"stability-ai/sdxl:{fx.VERSION_ID[:12]}"
    assert lines[1].split() == ["INPUT", "TYPE", "DEFAULT", "CONSTRAINTS", "DESCRIPTION"]
    names = [line.split()[0] for line in lines[2:12]]
    assert names == [
        "prompt*",
        "negative_prompt",
        "image",
        "width",
        "height",
        "num_outputs",
        "scheduler",
        "guidance_scale",
        "apply_watermark",
        "seed",
    ]
    rows = {line.split()[0]: line for line in lines[2:12]}
    assert "min 256, max 2048" in rows["width"] and "1024" in rows["width"]
    assert "one of 6 (below)" in rows["scheduler"] and '"K_EULER"' in rows["scheduler"]
    assert "scheduler: DDIM | DPMSolverMultistep | HeunDiscrete | K_EULER | K_EULER_ANCESTRAL | PNDM" in lines
    assert rows["prompt*"].split()[1] == "string" and rows["prompt*"].endswith("Input prompt")
    assert rows["image"].split()[1] == "file/url"
    assert "output: array of file/url" in lines
    assert lines[-1] == "* required"
    assert ran.data == fx.cog_image_schema()


def test_schema_of_a_named_version_fetches_that_version(api, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # one line a row (narrower terminals wrap the descriptions)
    version = fx.version(llm=True)
    route = api.get(f"/models/meta/llama/versions/{fx.VERSION_ID}").respond(200, json=version)
    ran = mocked(f"model schema meta/llama:{fx.VERSION_ID}")
    assert route.called
    assert "output: array of string (iterator, concatenate)" in ran.stdout.splitlines()
    assert [line.split()[0] for line in ran.stdout.splitlines()[2:6]] == [
        "prompt*",
        "system_prompt",
        "max_tokens",
        "temperature",
    ]


def test_schema_of_a_model_without_versions_says_so(api):
    api.get("/models/alice/empty").respond(200, json=fx.model("alice", "empty", latest_version=None))
    ran = mocked("model schema alice/empty")
    assert ran.code == 1 and isinstance(ran.error, RshellError)
    assert "no version" in ran.error.message


def test_schema_of_an_official_model_is_its_latest_versions(api):
    api.get("/models/meta/llama").respond(200, json=fx.model("meta", "llama", llm=True, is_official=True))
    ran = mocked("model schema meta/llama")
    assert ran.data == fx.cog_llm_schema()
    assert "prompt*" in ran.stdout


def test_schema_of_a_bare_version_id_is_a_usage_error_before_any_request(api):
    ran = mocked(f"model schema {fx.VERSION_ID}")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert api.calls.call_count == 0


# create, update, delete, versions ----------------------------------------------------


def test_create_defaults_to_private_on_cpu(api):
    route = api.post("/models").respond(201, json=fx.model("alice", "hot-dog", visibility="private"))
    ran = mocked("model create alice/hot-dog")
    assert body_of(route) == {"owner": "alice", "name": "hot-dog", "visibility": "private", "hardware": "cpu"}
    assert ran.stdout.splitlines()[0] == "created private model alice/hot-dog on cpu"
    assert ran.data["owner"] == "alice"


def test_create_sends_every_flag_given(api):
    route = api.post("/models").respond(201, json=fx.model("alice", "hot-dog"))
    ran = mocked(
        "model create alice/hot-dog --public --hardware gpu-t4 --description 'Finds hot dogs'"
        " --github-url https://github.com/alice/hd --paper-url https://arxiv.org/abs/1"
        " --license-url https://x/license --cover-image-url https://x/c.png"
    )
    assert ran.code == 0
    assert body_of(route) == {
        "owner": "alice",
        "name": "hot-dog",
        "visibility": "public",
        "hardware": "gpu-t4",
        "description": "Finds hot dogs",
        "github_url": "https://github.com/alice/hd",
        "paper_url": "https://arxiv.org/abs/1",
        "license_url": "https://x/license",
        "cover_image_url": "https://x/c.png",
    }


def test_create_surfaces_the_api_problem_detail(api):
    api.post("/models").respond(
        400,
        json=fx.problem(400, "A model with that name already exists"),
        headers={"content-type": "application/problem+json"},
    )
    ran = mocked("model create alice/hot-dog")
    assert ran.code == 1 and isinstance(ran.error, ApiError)
    assert "already exists" in ran.error.message


def test_update_sends_only_the_fields_given(api):
    route = api.patch("/models/alice/hot-dog").respond(200, json=fx.model("alice", "hot-dog", description="New"))
    ran = mocked("model update alice/hot-dog --description New")
    assert body_of(route) == {"description": "New"}
    assert ran.stdout.splitlines()[0] == "updated alice/hot-dog: description"


def test_update_without_fields_is_a_usage_error_before_any_request(api):
    ran = mocked("model update alice/hot-dog")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "--description" in (ran.error.hint or "")
    assert api.calls.call_count == 0


def test_delete_sends_delete_and_keeps_underscore(api):
    route = api.delete("/models/alice/hot-dog").respond(204)
    session = Session()
    session.bind(None, {"kept": True})
    ran = mocked("model delete alice/hot-dog", session=session)
    assert route.called
    assert ran.stdout == "deleted model alice/hot-dog\n"
    assert ran.data == {"kept": True}  # `_` is still the earlier result


def test_versions_lists_ids_and_dates(api, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")  # room for the whole id: narrower, the rows stack
    api.get("/models/stability-ai/sdxl/versions").respond(200, json=fx.page([fx.version()]))
    ran = mocked("model versions stability-ai/sdxl")
    header, row = ran.stdout.splitlines()
    assert header.split() == ["VERSION", "CREATED", "COG"]
    assert row.split() == [fx.VERSION_ID, "2024-05-14", "09:31", "0.9.6"]


def test_summaries_neutralise_control_sequences_from_the_api(api):
    api.get("/models/evil/m").respond(200, json=fx.model("evil", "m", description="\x1b]0;pwned\x07 hi"))
    shown = mocked("model show evil/m").stdout
    assert "\x1b" not in shown and "\x07" not in shown


def test_schema_text_shows_short_choices_inline_and_object_outputs():
    from rshell.rendering.schema import schema_text

    schema = {
        "components": {
            "schemas": {
                "Input": {
                    "type": "object",
                    "properties": {
                        "mode": {"type": "string", "enum": ["fast", "good"], "default": "fast", "x-order": 1},
                        "n": {"type": "integer", "x-order": 0},
                    },
                },
                "Output": {"$ref": "#/components/schemas/Result"},
                "Result": {"type": "object", "properties": {"text": {"type": "string"}, "score": {"type": "number"}}},
            }
        }
    }
    lines = schema_text(schema, "t").splitlines()
    assert [line.split()[0] for line in lines[2:4]] == ["n", "mode"]
    assert lines[3].split()[:5] == ["mode", "string", '"fast"', "one", "of"]
    assert lines[3].endswith("one of fast, good")
    assert lines[-1] == "output: object with text, score"


def test_integral_float_bounds_show_as_integers() -> None:
    from rshell.rendering.schema import _constraints

    assert _constraints({"type": "integer", "minimum": 16.0, "maximum": 512.0}) == "min 16, max 512"
    assert _constraints({"type": "number", "minimum": 0.5}) == "min 0.5"


# readme, examples, versions delete, update's fields ------------------------------------


def test_readme_is_laid_out_on_a_terminal_and_raw_markdown_with_json(api):
    markdown = "# SDXL\n\nMakes **images** from [text](https://x.y).\n"
    api.get("/models/stability-ai/sdxl/readme").respond(200, text=markdown, headers={"content-type": "text/plain"})
    ran = mocked("model readme stability-ai/sdxl")
    assert ran.data == markdown
    assert ran.stdout.splitlines()[:4] == ["SDXL", "====", "", "Makes images from text <https://x.y>."]
    assert (
        mocked("model readme stability-ai/sdxl", json_mode=True).stdout == markdown
    )  # not a JSON string: `model readme x > README.md` works


def test_readme_404_names_the_model(api):
    api.get("/models/alice/bare/readme").respond(404)
    ran = mocked("model readme alice/bare")
    assert ran.code == 1 and isinstance(ran.error, ApiError)
    assert "README of alice/bare not found" in ran.error.message


def test_examples_list_predictions(api):
    route = api.get("/models/stability-ai/sdxl/examples").respond(200, json=fx.page([fx.prediction()]))
    ran = mocked("model examples stability-ai/sdxl")
    assert route.called and fx.PREDICTION_ID in ran.stdout
    assert ran.data["results"][0]["id"] == fx.PREDICTION_ID


def test_versions_delete_sends_delete_of_that_version(api):
    route = api.delete(f"/models/alice/my-model/versions/{fx.VERSION_ID}").respond(202)
    ran = mocked(f"model versions delete alice/my-model:{fx.VERSION_ID}")
    assert route.called
    assert ran.stdout == f"deleted version {fx.VERSION_ID} of alice/my-model\n"


@pytest.mark.parametrize("ref", ["alice/my-model", fx.VERSION_ID, "nonsense"])
def test_versions_delete_needs_owner_name_and_version(api, ref):
    ran = mocked(f"model versions delete {ref}")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert ran.error.exit_code == 2 and not api.calls


def test_model_versions_still_lists(api):
    route = api.get("/models/alice/my-model/versions").respond(200, json=fx.page([fx.version()]))
    assert mocked("model versions alice/my-model").code == 0
    assert route.called


def test_update_sends_readme_and_weights_url(api):
    route = api.patch("/models/alice/my-model").respond(200, json=fx.model("alice", "my-model"))
    assert mocked("model update alice/my-model --readme '# Hi' --weights-url https://w/x.tar").code == 0
    assert body_of(route) == {"readme": "# Hi", "weights_url": "https://w/x.tar"}


def test_update_readme_from_a_file(api, tmp_path):
    (tmp_path / "README.md").write_text("# From a file\n")
    route = api.patch("/models/alice/my-model").respond(200, json=fx.model("alice", "my-model"))
    assert mocked(f"model update alice/my-model --readme @{tmp_path}/README.md").code == 0
    assert body_of(route) == {"readme": "# From a file\n"}


def test_update_readme_from_a_missing_file_sends_nothing(api, tmp_path):
    ran = mocked(f"model update alice/my-model --readme @{tmp_path}/nope.md")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "no such file" in ran.error.message and not api.calls


def test_update_refuses_cover_image_url_which_the_api_does_not_take(api):
    ran = mocked("model update alice/my-model --cover-image-url https://x/c.png")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "unknown flag '--cover-image-url'" in ran.error.message and not api.calls


def test_update_without_fields_lists_the_update_flags(api):
    ran = mocked("model update alice/my-model")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "--readme" in ran.error.hint and "--weights-url" in ran.error.hint
    assert "--cover-image-url" not in ran.error.hint


def test_list_sends_sort_flags(api):
    route = api.get("/models").respond(200, json=fx.page([fx.model()]))
    assert mocked("model list --sort-by model_created_at --sort-direction asc").code == 0
    assert dict(route.calls.last.request.url.params) == {"sort_by": "model_created_at", "sort_direction": "asc"}


def test_list_refuses_an_unknown_sort(api):
    ran = mocked("model list --sort-by stars")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert not api.calls
