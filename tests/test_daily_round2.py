"""Daily use, round two (issue 22): what a person living in the shell for an hour
still trips over, each through the real executor (`rsh`) or a real pty."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rsh import rsh, rshell_main

from rshell.commands import topics

ROOT = Path(__file__).resolve().parents[1]
GRAMMAR = ROOT / "references" / "grammar.md"

# 3. help topics through the Markdown renderer -------------------------------------------


@pytest.mark.parametrize("topic", list(topics.TOPICS))
def test_help_topics_are_rendered_not_raw_markdown_at_60_columns(topic: str, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    ran = rsh(f"help {topic}", json_mode=None, stdout_tty=True)
    assert ran.code == 0, ran.stderr
    lines = ran.stdout.splitlines()
    grammar = GRAMMAR.read_text()
    prose = [line for line in lines if not (line.startswith("    ") and line.strip() in grammar)]  # code stays whole
    assert all(len(line) <= 60 for line in prose), [line for line in prose if len(line) > 60]
    assert not any(line.startswith(("#", "|")) for line in lines)
    assert "|---" not in ran.stdout and not re.search(r"`[\w{$-][^`]*`", ran.stdout)


def test_help_keys_is_a_table_of_keys_and_what_they_do(monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    out = rsh("help keys", json_mode=None, stdout_tty=True).stdout
    assert out.startswith("Keys in the shell\n-----------------")
    assert re.search(r"^Ctrl-R\b.*searches the history", out, re.M)
    assert "\\q" in out and "Ctrl-X Ctrl-E" in out


# 1. the pager: pgcli's LESS when the user has none ------------------------------------------


def test_pager_sets_less_srxf_only_when_the_user_has_no_less(monkeypatch) -> None:
    from rshell.rendering import pager

    monkeypatch.delenv("PAGER", raising=False)
    monkeypatch.delenv("LESS", raising=False)
    assert (pager.command() or ([], {}))[1]["LESS"] == "-SRXF"
    monkeypatch.setenv("LESS", "-i")
    assert (pager.command() or ([], {}))[1]["LESS"] == "-i"  # the user's choice stays


# 9. completion ranking: prefix first in a stable order, then fuzzy ---------------------------


def _offered(text: str) -> list[str]:
    from rshell.completion.cache import CompletionCache
    from rshell.completion.engine import CompletionEngine
    from rshell.session.state import Session

    return [c.text for c in CompletionEngine(CompletionCache(), Session()).complete(text)]


def test_r_offers_run_first_and_no_command_merely_containing_an_r() -> None:
    offered = _offered("r")
    assert offered[0] == "run" and "rerun" in offered
    assert not {"hardware", "prediction", "training"} & set(offered)
    assert all(word.startswith("r") for word in offered)


def test_prefix_matches_come_before_fuzzy_ones_and_the_order_is_stable() -> None:
    offered = _offered("tr")
    starts = [word.startswith("tr") for word in offered]
    assert starts == sorted(starts, reverse=True)  # every prefix match before the first other
    assert set(offered[:3]) == {"train", "training", "trainings"}
    assert _offered("tr") == offered


# 4. prediction show of a language model: the joined text ---------------------------------------


def test_prediction_show_of_a_language_model_joins_its_tokens(sandbox) -> None:
    from rshell.session.state import Session

    session = Session()
    ran = rsh(
        "story = run rshell/tinylm prompt='once upon a time' --json", session=session, api=(sandbox.url, sandbox.token)
    )
    assert ran.code == 0, ran.stderr
    tokens = session.variables["story"]["output"]
    assert isinstance(tokens, list) and len(tokens) > 3
    shown = rsh(f"prediction show {ran.json['id']}", session=session, api=(sandbox.url, sandbox.token), json_mode=False)
    assert shown.code == 0, shown.stderr
    output = shown.stdout.split("output:\n", 1)[1]
    assert "".join(tokens) in output
    assert '"' not in output.splitlines()[0] and "[" not in output.splitlines()[0]  # text, not a JSON array


# 5. no internal values on screen; the last status follows every run ----------------------------


def test_status_vars_and_show_print_no_python_lists_or_null(sandbox) -> None:
    from rshell.session.state import Session

    session = Session()
    api = (sandbox.url, sandbox.token)
    assert rsh("bg = run rshell/echo text=later --no-wait", session=session, api=api).code == 0
    run_id = session.variables["bg"]["id"]
    status = rsh("status", session=session, api=api, json_mode=False).stdout
    assert f"in_flight    {run_id}" in status and "['" not in status and "[]" not in status
    listed = rsh("vars", session=session, api=api, json_mode=False).stdout
    assert "null" not in listed and "(snapshot, status starting" in listed
    shown = rsh("show bg.output", session=session, api=api, json_mode=False)
    assert shown.stdout == "null\n"  # JSON's word for nothing, not an empty line


def test_last_status_follows_a_successful_wait_and_batch_after_a_failure(sandbox, tmp_path) -> None:
    from rshell.session.state import Session

    session = Session()
    api = (sandbox.url, sandbox.token)
    rsh("bg = run rshell/echo text=later --no-wait", session=session, api=api)
    assert session.last_status == "starting"
    assert rsh(f"prediction wait {session.variables['bg']['id']}", session=session, api=api).code == 0
    assert session.last_status == "succeeded"
    session.last_status = "failed"  # as a failed run leaves it
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"text": "a"}\n{"text": "b"}\n')
    ran = rsh(f"batch rshell/echo --inputs {rows}", session=session, api=api)
    assert ran.code == 0, ran.stderr
    assert session.last_status == "succeeded"


# 7. --save: paths in output order, each once; a name already taken is said ----------------------


def test_save_lists_each_file_once_in_order_and_says_when_a_name_was_taken(sandbox, tmp_path) -> None:
    api = (sandbox.url, sandbox.token)
    line = f"run rshell/pixels prompt=fox num_outputs=3 --save --output-directory {tmp_path / 'saved'}"
    first = rsh(line, api=api, json_mode=False)
    assert first.code == 0, first.stderr
    both = first.stdout + first.stderr
    names = re.findall(r"saved/(\S+\.png)", both)
    assert names == sorted(names) and len(names) == len(set(names)) == 3, both  # once each, out-0 first
    again = rsh(line, api=api, json_mode=False)
    assert again.code == 0, again.stderr
    renamed = sorted(p.name for p in (tmp_path / "saved").iterdir() if p.name not in names)
    assert len(renamed) == 3
    for old in names:
        assert re.search(rf"{re.escape(old)} .*already.*{re.escape(old[:-4])}-1\.png", again.stderr), again.stderr


# 14. small things ---------------------------------------------------------------------------


def test_a_long_flag_in_help_does_not_run_into_its_description() -> None:
    out = rsh("run --help", json_mode=None).stdout
    assert "completed Events" not in out
    assert re.search(r"^  --webhook-events start\|output\|logs\|completed\n {31}Events that trigger", out, re.M), out


def test_history_0_prints_no_lines_rather_than_no_history_yet(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RSHELL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    from rshell.session.store import append_history

    append_history("vars")
    ran = rsh("history 0", json_mode=False)
    assert ran.code == 0 and "no history yet" not in ran.stdout
    assert "vars" in rsh("history 1", json_mode=False).stdout


def test_cancelling_a_finished_prediction_says_nothing_was_cancelled(sandbox) -> None:
    api = (sandbox.url, sandbox.token)
    done = rsh("run rshell/echo text=hi --json", api=api)
    ran = rsh(f"prediction cancel {done.json['id']}", api=api, json_mode=False)
    assert ran.code == 0
    assert "already succeeded" in ran.stdout and "nothing to cancel" in ran.stdout


def test_run_without_a_model_suggests_no_hub_model() -> None:
    ran = rsh("run", json_mode=False)
    assert ran.code == 2 and "needs a model" in ran.stderr
    assert "stability-ai/sdxl" not in ran.stderr and "model list" in ran.stderr


def test_an_unknown_hardware_sku_points_at_hardware_list(sandbox) -> None:
    api = (sandbox.url, sandbox.token)
    ran = rsh("model create sandbox/hw-test --hardware gpu-xyz --private", api=api, json_mode=False)
    assert ran.code != 0 and "`hardware list`" in ran.stderr


# 12. creations replay: --exist-ok --------------------------------------------------------------


@pytest.mark.parametrize("script", ["fine-tune.rsh", "deployments.rsh"])
def test_examples_replay_twice_against_one_local_sandbox(script: str, tmp_path: Path) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLICATE_", "XDG_", "RSHELL_"))}
    env.update(HOME=str(tmp_path / "home"), PYTHONPATH=str(ROOT))
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    for attempt in (1, 2):  # two runs of `rshell --local examples/…`, through cli.main in this process
        done = rshell_main("--local", f"examples/{script}", env=env, cwd=tmp_path)
        assert done.code == 0, f"run {attempt}: {done.stderr}"
        assert "error" not in done.stderr.lower(), done.stderr


def test_model_create_exist_ok_takes_a_matching_model_and_refuses_a_different_one(sandbox) -> None:
    api = (sandbox.url, sandbox.token)
    line = "model create sandbox/twice --hardware cpu --private --description 'the same'"
    assert rsh(line, api=api).code == 0
    plain = rsh(line, api=api, json_mode=False)
    assert plain.code == 1 and "already exists" in plain.stderr  # without --exist-ok: as before
    again = rsh(line + " --exist-ok", api=api, json_mode=False)
    assert again.code == 0, again.stderr
    assert "already exists" in again.stdout and "sandbox/twice" in again.stdout
    assert again.data["name"] == "twice"  # `_` is the model, as a create would bind
    other = rsh("model create sandbox/twice --hardware cpu --public --exist-ok", api=api, json_mode=False)
    assert other.code == 2
    assert "sandbox/twice already exists" in other.stderr and "visibility" in other.stderr


def test_deployments_create_exist_ok_takes_a_matching_deployment_and_refuses_a_different_one(sandbox) -> None:
    api = (sandbox.url, sandbox.token)
    line = "deployments create twice --model rshell/pixels --hardware cpu --min-instances 0 --max-instances 1"
    assert rsh(line, api=api).code == 0
    again = rsh(line + " --exist-ok", api=api, json_mode=False)
    assert again.code == 0, again.stderr
    assert "already exists" in again.stdout
    other = rsh(line.replace("--max-instances 1", "--max-instances 3") + " --exist-ok", api=api, json_mode=False)
    assert other.code == 2 and "already exists" in other.stderr and "max_instances" in other.stderr


def test_save_writes_creations_with_exist_ok(sandbox, tmp_path) -> None:
    from rshell.session.state import Session

    session = Session()
    api = (sandbox.url, sandbox.token)
    assert rsh("model create sandbox/saved-one --hardware cpu --private", session=session, api=api).code == 0
    script = tmp_path / "again.rsh"
    assert rsh(f"save {script}", session=session, api=api).code == 0
    assert "model create sandbox/saved-one --hardware cpu --private --exist-ok" in script.read_text()
    replayed = rsh(script.read_text(), api=api, source=str(script))
    assert replayed.code == 0, replayed.stderr


# 15. the defaults a create sends are shown, in help and in its output ------------------------------


def test_create_defaults_are_shown_in_help_and_in_the_output(sandbox) -> None:
    assert re.search(r"--hardware SKU .*\(default: cpu\)", rsh("model create --help", json_mode=None).stdout)
    deploy_help = rsh("deployments create --help", json_mode=None).stdout
    assert re.search(r"--hardware SKU .*\(default: cpu\)", deploy_help)
    assert re.search(r"--max-instances N .*\(default: 1\)", deploy_help)
    api = (sandbox.url, sandbox.token)
    made = rsh("model create sandbox/defaults", api=api, json_mode=False)
    assert made.stdout.startswith("created private model sandbox/defaults on cpu")
    deployed = rsh("deployments create defaults --model rshell/pixels", api=api, json_mode=False)
    assert deployed.stdout.startswith("created deployment (hardware cpu, instances 0-1)")


# 6. no preview hint where preview cannot draw ----------------------------------------------------


def test_no_preview_hint_under_term_dumb(sandbox, monkeypatch) -> None:
    api = (sandbox.url, sandbox.token)
    shown = rsh("run rshell/pixels prompt=fox", api=api, json_mode=False, interactive=True, stdout_tty=True)
    assert "preview _ draws it here" in shown.stderr  # a terminal that draws: the hint
    monkeypatch.setenv("TERM", "dumb")
    dumb = rsh("run rshell/pixels prompt=fox", api=api, json_mode=False, interactive=True, stdout_tty=True)
    assert dumb.code == 0 and ".png" in dumb.stdout
    assert "preview _" not in dumb.stderr


def test_run_model_help_lists_the_models_inputs(sandbox, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the schema's table one input a line
    api = (sandbox.url, sandbox.token)
    ran = rsh("run rshell/pixels --help", api=api, json_mode=False)
    assert ran.code == 0, ran.stderr
    assert ran.stdout.startswith("usage: prediction create")
    assert re.search(r"^seed\b", ran.stdout, re.M) and "Text the picture is derived from" in ran.stdout
    offline = rsh("run rshell/pixels prompt=x --help", json_mode=False)  # no API: the help still stands
    assert offline.code == 0 and offline.stdout.startswith("usage: prediction create")
    assert "inputs of rshell/pixels are not shown" in offline.stdout
