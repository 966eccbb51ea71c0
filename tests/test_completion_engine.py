"""The completion engine end to end: a partial line in, completions out.

The cache is filled the way the REPL fills it: the engine asks its Refresher, which
fetches through a real ReplicateClient from a respx-mocked API serving Cog schemas.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import respx
from test_completion_support import (
    SDXL_OLD_SCHEMA,
    SDXL_OLD_VERSION,
    SDXL_ORDER,
    SDXL_SCHEMA,
    SDXL_VERSION,
    HeldPause,
    Rig,
    make_rig,
)

from rshell.completion.engine import Completion
from rshell.session.state import Session


def drive(scenario: Callable[[Rig], Awaitable[Any]], session: Session | None = None) -> Any:
    """Run `scenario` with a rig on a fresh event loop and a mocked API."""

    async def main() -> Any:
        with respx.mock(assert_all_called=False) as router:
            rig = make_rig(router, session=session)
            try:
                return await scenario(rig)
            finally:
                await rig.client.aclose()

    return asyncio.run(main())


def by_text(found: list[Completion]) -> dict[str, Completion]:
    return {c.text: c for c in found}


# commands, subcommands, aliases, flags ------------------------------------------------


def test_first_word_offers_groups_commands_and_aliases_from_the_catalog() -> None:
    async def scenario(rig: Rig) -> None:
        found = rig.texts("")
        for word in (
            "prediction",
            "model",
            "deployments",
            "hardware",
            "help",
            "scaffold",
            "run",
            "stream",
            "train",
            "m",
            "hw",
        ):
            assert word in found
        offered = rig.texts("pre")
        assert offered[0] == "prediction" and {"predictions", "preview"} <= set(offered[:3])
        ran = by_text(rig.engine.complete("ru"))["run"]
        assert (ran.start, ran.meta) == (-2, "= prediction create")

    drive(scenario)


def test_user_aliases_complete_and_expand() -> None:
    session = Session(aliases={"sdxl": "run stability-ai/sdxl"})

    async def scenario(rig: Rig) -> None:
        found = by_text(rig.engine.complete("sd"))
        assert found["sdxl"].meta == "alias: run stability-ai/sdxl"
        # the alias stands for `run stability-ai/sdxl`, so its inputs complete
        assert await rig.settle("sdxl ") == [k + "=" for k in SDXL_ORDER]

    drive(scenario, session)


def test_subcommands_of_a_group_and_its_spellings() -> None:
    async def scenario(rig: Rig) -> None:
        assert rig.texts("model sc") == ["schema", "search"]
        assert rig.texts("m sc") == ["schema", "search"]
        assert rig.texts("deployment ") == ["create", "list", "show", "update", "schema", "delete"]
        assert rig.texts("nosuchgroup ") == []

    drive(scenario)


def test_flags_leave_out_those_already_given() -> None:
    async def scenario(rig: Rig) -> None:
        found = rig.texts("run a/b --")
        assert "--stream" in found and "--save" in found and "--json" in found
        after = rig.texts("run a/b --stream --save --")
        assert "--stream" not in after and "--save" not in after and "--web" in after
        # --wait and --no-wait set the same thing: once one is given, neither is offered
        assert not {"--wait", "--no-wait"} & set(rig.texts("run a/b --no-wait --"))
        # `stream` already means --stream
        assert "--stream" not in rig.texts("stream a/b --")
        assert rig.texts("hardware list --") == ["--web", "--json", "--help"]

    drive(scenario)


def test_flag_values_from_choices_with_the_default_marked() -> None:
    async def scenario(rig: Rig) -> None:
        found = rig.engine.complete("scaffold p1 --template ")
        assert [(c.text, c.meta) for c in found] == [("node", "default"), ("python", None)]
        assert [(c.text, c.start) for c in rig.engine.complete("scaffold p1 --template=py")] == [("python", -2)]
        assert rig.texts("run a/b --file-encoding d") == ["data"]
        # the Go CLI's short flags take their values the same way, spaced or attached
        assert [c.text for c in rig.engine.complete("scaffold p1 -t ")] == ["node", "python"]
        assert "--template" not in rig.texts("scaffold p1 -t=python --")
        assert "--template" not in rig.texts("scaffold p1 -tpython --")

    drive(scenario)


def test_hardware_skus_for_hardware_flags() -> None:
    async def scenario(rig: Rig) -> None:
        assert rig.texts("model create alice/new --hardware ") == []  # not fetched yet
        assert await rig.settle("model create alice/new --hardware ") == ["cpu", "gpu-t4", "gpu-a40-large", "gpu-l40s"]
        found = by_text(rig.engine.complete("deployments update alice/x --hardware gpu-a"))
        assert list(found) == ["gpu-a40-large"] and found["gpu-a40-large"].meta == "Nvidia A40 (Large) GPU"
        assert rig.api.calls.count("hardware") == 1  # cached, not fetched again

    drive(scenario)


# models and versions ------------------------------------------------------------------


def test_models_from_live_search_as_you_type() -> None:
    async def scenario(rig: Rig) -> None:
        # prefix matches first; a fuzzy match (s…t…a…b in "forest-labs") after them
        found = await rig.settle("run stab")
        assert found == ["stability-ai/sdxl", "stability-ai/stable-diffusion", "black-forest-labs/flux-schnell"]
        assert "search:stab" in rig.api.calls
        assert rig.updates, "on_update was not called when the search landed"
        found = by_text(rig.engine.complete("run stab"))
        assert "A text-to-image generative AI model" in (found["stability-ai/sdxl"].meta or "")
        assert found["stability-ai/sdxl"].start == -4

    drive(scenario)


def test_model_search_is_debounced_while_typing() -> None:
    async def scenario(rig: Rig) -> None:
        rig.refresher.debounce = 0.2
        held = HeldPause(rig.refresher)
        for end in range(2, len("llama") + 1):
            rig.engine.complete("run " + "llama"[:end])
            await asyncio.sleep(0)  # the loop runs between keystrokes, as in the REPL
        assert held.delays == [0.2] * 4  # each keystroke restarted the wait for a pause
        assert not [c for c in rig.api.calls if c.startswith("search:")]  # no search while typing
        held.pause()
        assert await rig.refresher.drain(5)
        assert [c for c in rig.api.calls if c.startswith("search:")] == ["search:llama"]
        assert "meta/meta-llama-3-8b-instruct" in rig.texts("run llama")

    drive(scenario)


def test_models_after_every_command_and_flag_that_takes_one() -> None:
    async def scenario(rig: Rig) -> None:
        await rig.settle("model show stab")
        for line in (
            "model show stab",
            "model schema stab",
            "train stab",
            "deployments create d --model stab",
            "train a/b:v --destination stab",
            "m versions stab",
        ):
            assert rig.texts(line)[:1] == ["stability-ai/sdxl"], line

    drive(scenario)


def test_recent_and_own_models_rank_first() -> None:
    session = Session(statements=["run black-forest-labs/flux-schnell prompt=hi"])

    async def scenario(rig: Rig) -> None:
        await rig.settle("run ")  # lists models, the predictions (recent) and the account
        found = rig.engine.complete("run ")
        assert found[0].text == "black-forest-labs/flux-schnell" and (found[0].meta or "").startswith("recent")
        # sdxl was run through the API (predictions list) so it is recent too
        assert found[1].text == "stability-ai/sdxl"
        # a prefix match beats a fuzzy one; among prefix matches recent ones come first
        assert rig.texts("run stability-ai/s")[:2] == ["stability-ai/sdxl", "stability-ai/stable-diffusion"]

    drive(scenario, session)


def test_versions_after_owner_name_colon() -> None:
    async def scenario(rig: Rig) -> None:
        assert await rig.settle("run stability-ai/sdxl:") == [SDXL_VERSION, SDXL_OLD_VERSION]
        found = rig.engine.complete("run stability-ai/sdxl:77")
        assert [(c.text, c.start) for c in found] == [(SDXL_OLD_VERSION, -2)]
        assert found[0].meta == "2023-07-26 17:00"

    drive(scenario)


# inputs ---------------------------------------------------------------------------------


def test_input_keys_in_x_order_with_type_default_and_description() -> None:
    async def scenario(rig: Rig) -> None:
        assert rig.texts("run stability-ai/sdxl ") == []  # schema not known yet: nothing, no wait
        assert await rig.settle("run stability-ai/sdxl ") == [k + "=" for k in SDXL_ORDER]
        found = by_text(rig.engine.complete("run stability-ai/sdxl "))
        assert found["num_inference_steps="].meta == "integer = 50 — Number of denoising steps"
        assert found["num_inference_steps="].display == "num_inference_steps"
        assert found["prompt="].meta == "string, required — Input prompt"
        assert found["scheduler="].meta == 'string = "K_EULER" — scheduler'
        assert found["image="].meta.startswith("string (uri, @file)")

    drive(scenario)


def test_input_keys_already_given_are_left_out() -> None:
    async def scenario(rig: Rig) -> None:
        await rig.settle("run stability-ai/sdxl ")
        left = rig.texts("run stability-ai/sdxl prompt='a fox' width=512 ")
        assert left == [k + "=" for k in SDXL_ORDER if k not in ("prompt", "width")]
        assert rig.texts("run stability-ai/sdxl num") == ["num_inference_steps="]
        assert [c.start for c in rig.engine.complete("run stability-ai/sdxl num")] == [-3]

    drive(scenario)


def test_input_keys_use_the_separator_in_force() -> None:
    async def scenario(rig: Rig) -> None:
        await rig.settle("run stability-ai/sdxl ")
        assert rig.texts("run stability-ai/sdxl --separator : pro") == ["prompt:", "negative_prompt:"]
        rig.session.options["separator"] = "::"
        assert rig.texts("run stability-ai/sdxl wid") == ["width::"]

    drive(scenario)


def test_input_keys_of_a_pinned_version() -> None:
    async def scenario(rig: Rig) -> None:
        line = f"run stability-ai/sdxl:{SDXL_OLD_VERSION} "
        assert await rig.settle(line) == ["prompt=", "seed="]
        assert f"version:stability-ai/sdxl:{SDXL_OLD_VERSION}" in rig.api.calls

    drive(scenario)


def test_schema_fetches_keep_a_pinned_version_apart_from_the_model() -> None:
    """`owner/name:id` fetches that Version; `owner/name` fetches the Model and its latest
    Version: each lands under its own keys (the refresher once kept both in one variable)."""

    async def scenario(rig: Rig) -> None:
        await rig.refresher.fetch("schema", f"stability-ai/sdxl:{SDXL_OLD_VERSION}")
        assert rig.cache.version_schemas == {SDXL_OLD_VERSION: SDXL_OLD_SCHEMA}
        assert "stability-ai/sdxl" not in rig.cache.schemas  # a pinned version is not the latest
        await rig.refresher.fetch("schema", "stability-ai/sdxl")
        assert rig.cache.schemas["stability-ai/sdxl"] == SDXL_SCHEMA
        assert rig.cache.version_schemas == {SDXL_OLD_VERSION: SDXL_OLD_SCHEMA, SDXL_VERSION: SDXL_SCHEMA}
        assert rig.cache.models["stability-ai/sdxl"].run_count == 76_000_000  # the model's own info came along
        await rig.refresher.fetch("schema", "meta/meta-llama-3-8b-instruct")  # a model with no version yet
        assert "meta/meta-llama-3-8b-instruct" not in rig.cache.schemas
        assert "meta/meta-llama-3-8b-instruct" in rig.cache.models
        assert rig.api.calls == [
            f"version:stability-ai/sdxl:{SDXL_OLD_VERSION}",
            "model:stability-ai/sdxl",
            "model:meta/meta-llama-3-8b-instruct",
        ]

    drive(scenario)


def test_training_inputs_come_from_the_trainer_schema() -> None:
    async def scenario(rig: Rig) -> None:
        line = "train alice/my-trainer --destination alice/out "
        assert await rig.settle(line) == ["input_images=", "steps=", "lora_rank="]

    drive(scenario)


def test_enum_values_and_booleans_after_key_equals() -> None:
    async def scenario(rig: Rig) -> None:
        await rig.settle("run stability-ai/sdxl ")
        found = rig.engine.complete("run stability-ai/sdxl scheduler=")
        assert [c.text for c in found] == [
            "DDIM",
            "DPMSolverMultistep",
            "HeunDiscrete",
            "K_EULER_ANCESTRAL",
            "K_EULER",
            "PNDM",
        ]
        assert by_text(found)["K_EULER"].meta == "default"
        assert [(c.text, c.start) for c in rig.engine.complete("run stability-ai/sdxl scheduler=K_E")] == [
            ("K_EULER_ANCESTRAL", -3),
            ("K_EULER", -3),
        ]
        assert [(c.text, c.meta) for c in rig.engine.complete("run stability-ai/sdxl apply_watermark=")] == [
            ("true", "default"),
            ("false", None),
        ]
        assert rig.texts("run stability-ai/sdxl width=") == []  # an integer: nothing to offer

    drive(scenario)


def test_values_with_spaces_are_quoted() -> None:
    from rshell.completion import inputs

    field = inputs.InputField("style", {"type": "string", "enum": ["oil paint", "pencil"]}, False)
    assert [c.text for c in inputs.value_candidates(field)] == ["oil paint", "pencil"]

    async def scenario(rig: Rig) -> None:
        rig.cache.put_schema(
            "a/b",
            {
                "components": {
                    "schemas": {
                        "Input": {
                            "type": "object",
                            "properties": {"style": {"type": "string", "enum": ["oil paint", "pencil"]}},
                        }
                    }
                }
            },
        )
        assert rig.texts("run a/b style=o") == ["'oil paint'"]

    drive(scenario)


# paths ------------------------------------------------------------------------------------


def test_local_paths_after_at_and_for_path_arguments(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "fox.png").write_bytes(b"x")
    (tmp_path / "photo notes.txt").write_text("x")
    (tmp_path / ".hidden").write_text("x")

    async def scenario(rig: Rig) -> None:
        rig.engine.cwd = tmp_path
        found = rig.engine.complete("run a/b image=@pho")
        assert [(c.text, c.start) for c in found] == [("'photo notes.txt'", -3), ("photos/", -3)]
        assert rig.texts("run a/b image=@photos/") == ["photos/fox.png"]
        assert rig.texts("files upload ") == ["'photo notes.txt'", "photos/"]  # no dot-files
        assert rig.texts("files upload .h") == [".hidden"]
        assert rig.texts("run a/b --output-directory pho") == ["'photo notes.txt'", "photos/"]

    drive(scenario)


def test_home_paths_keep_the_tilde(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "data.zip").write_bytes(b"x")

    async def scenario(rig: Rig) -> None:
        assert rig.texts("train a/b:v --destination a/c input_images=@~/da") == ["~/data.zip"]

    drive(scenario)


# variables and templates -----------------------------------------------------------------------

IMG = {
    "id": "p1",
    "status": "succeeded",
    "output": ["https://x/0.png", "https://x/1.png"],
    "metrics": {"predict_time": 1.5},
    "input": {"odd key": 1},
}


def test_variable_names_and_paths_after_dollar() -> None:
    session = Session(variables={"img": IMG, "imgs": [IMG]}, last={"id": "p9"})

    async def scenario(rig: Rig) -> None:
        assert rig.texts("run a/b image=$im") == ["$img", "$imgs"]
        assert [(c.text, c.start) for c in rig.engine.complete("run a/b image=$img.out")] == [("$img.output", -8)]
        assert rig.texts("run a/b image=$img.output") == ["$img.output"]
        assert rig.texts("run a/b image=$img.output[") == ["$img.output[0]", "$img.output[1]", "$img.output[-1]"]
        assert rig.texts("run a/b x=$img.metrics.") == ["$img.metrics.predict_time"]
        assert rig.texts("run a/b x=$img.input.") == ['$img.input["odd key"]']
        assert rig.texts("run a/b x=$_.") == ["$_.id"]
        assert rig.texts("run a/b x=$nope.") == []

    drive(scenario, session)


def test_variable_paths_inside_templates() -> None:
    session = Session(variables={"img": IMG})

    async def scenario(rig: Rig) -> None:
        found = rig.engine.complete('run a/b image="{{ img.output[')
        assert [(c.text, c.start) for c in found] == [
            ("img.output[0]", -11),
            ("img.output[1]", -11),
            ("img.output[-1]", -11),
        ]
        assert rig.texts("run a/b image={{img.st") == ["img.status"]
        assert rig.texts("run a/b image={{i") == ["img"]
        assert rig.texts("run a/b image='$img.out") == []  # single quotes: no substitution

    drive(scenario, session)


def test_variable_arguments_of_builtins() -> None:
    session = Session(variables={"img": IMG, "fox": {"id": "p2"}})

    async def scenario(rig: Rig) -> None:
        assert rig.texts("unset ") == ["img", "fox"]
        assert rig.texts("show img.met") == ["img.metrics"]
        assert rig.texts("wait ") == ["img", "fox"]
        assert rig.texts("wait img ") == ["img", "fox"]  # `wait NAME…` takes more than one
        assert rig.texts("rerun img ") == []  # then inputs, not another name

    drive(scenario, session)


# ids, names, options, help -------------------------------------------------------------------


def test_prediction_and_training_ids() -> None:
    # in_flight maps id -> kind (Session.bind): a training in flight is no prediction id
    session = Session(in_flight={"inflightid000": "prediction", "trainflight00": "training"})

    async def scenario(rig: Rig) -> None:
        assert await rig.settle("prediction show ") == [
            "inflightid000",
            "ufawqhfynnddngldkgtslldrkq",
            "rrr4z55ocneqzikepnug6xezpe",
        ]
        meta = by_text(rig.engine.complete("p cancel uf"))["ufawqhfynnddngldkgtslldrkq"].meta
        assert meta == "black-forest-labs/flux-schnell · succeeded · 2024-06-02 08:30"
        assert await rig.settle("training show ") == ["trainflight00", "zz4ibbonubfz7carwiefibzgga"]
        assert await rig.settle("scaffold ") == [
            "inflightid000",
            "ufawqhfynnddngldkgtslldrkq",
            "rrr4z55ocneqzikepnug6xezpe",
        ]

    drive(scenario, session)


def test_deployments_files_and_collections() -> None:
    async def scenario(rig: Rig) -> None:
        assert await rig.settle("deployments show ") == ["alice/fast-sdxl"]
        assert await rig.settle("run --deployment fa") == ["alice/fast-sdxl"]
        assert by_text(rig.engine.complete("d schema "))["alice/fast-sdxl"].meta == "stability-ai/sdxl · gpu-a40-large"
        assert await rig.settle("files show ") == ["cneqzikepnug6xezperrr4z55o"]
        assert await rig.settle("collections show text") == ["text-to-image"]

    drive(scenario)


def test_options_after_set_and_commands_after_help() -> None:
    async def scenario(rig: Rig) -> None:
        assert "separator" in rig.texts("set ") and "editing_mode" in rig.texts("set ")
        assert rig.texts("set js") == ["json"]
        assert rig.texts("set json ") == ["on", "off"]
        assert rig.texts("help sc")[0] == "scaffold"  # then fuzzy ones: search, source
        assert rig.texts("help model sch") == ["schema", "search"]
        assert "prediction" in rig.texts("help ")

    drive(scenario)


def test_statements_pipelines_bindings_and_comments() -> None:
    async def scenario(rig: Rig) -> None:
        assert rig.texts("vars; mod") == ["model", "models"]
        assert rig.texts("img = ru") == ["run", "rerun", "rerun-line"]  # the prefix first, then the fuzzy matches
        assert "list" in rig.texts("vars | model ")
        assert rig.texts("run a/b # a comment ") == []
        assert rig.texts("run a/b | !jq .") == []
        assert rig.texts("replicate model sche") == ["schema"]

    drive(scenario)


# never blocks --------------------------------------------------------------------------------------


def test_a_slow_api_does_not_delay_known_completions_and_new_data_shows_up_later() -> None:
    async def scenario(rig: Rig) -> None:
        await rig.settle("run stability-ai/sdxl ")  # sdxl's schema is known
        gate = asyncio.Event()
        rig.api.gates["model:black-forest-labs/flux-schnell"] = gate
        before = len(rig.updates)
        assert rig.texts("run black-forest-labs/flux-schnell ") == []  # asks, does not wait
        await rig.api.requested("model:black-forest-labs/flux-schnell")  # the fetch now hangs in the API
        # answered from memory while the fetch hangs (how fast: tests/benchmarks/test_completion_bench.py)
        for _ in range(20):
            assert rig.texts("run stability-ai/sdxl wid") == ["width="]
            assert rig.texts("run black-forest-labs/flux-schnell ") == []
        assert rig.api.calls.count("model:black-forest-labs/flux-schnell") == 1  # de-duplicated
        assert len(rig.updates) == before
        gate.set()
        assert await rig.refresher.drain(5)
        assert len(rig.updates) == before + 1
        assert rig.texts("run black-forest-labs/flux-schnell ") == ["prompt=", "seed="]

    drive(scenario)


def test_failed_fetches_are_quiet_and_not_retried_at_once() -> None:
    async def scenario(rig: Rig) -> None:
        assert await rig.settle("run nobody/missing ") == []
        assert await rig.settle("run nobody/missing ") == []
        assert rig.api.calls.count("model:nobody/missing") == 1

    drive(scenario)
