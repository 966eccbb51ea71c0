"""Issue 12, items 5, 6, 8-11, end to end: rshell's command lines against a live sandbox
(the `sandbox` fixture, or `--local` with a private data directory). A run goes through
the composition root in this process (`rsh.rshell_main`, with the environment and
working directory a process would have); what needs processes of its own (two at once
sharing the `--local` sandbox, a real pipe between two) runs `python -m rshell`.

Reused streamed text, `--local` work that outlives its process, scripts that replay,
exit 2 meaning nothing was sent, script-relative `@paths`, dry-run placeholders.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from processes import private_env
from rsh import Outcome, rshell_main

ROOT = Path(__file__).resolve().parents[1]
RSHELL = [sys.executable, "-m", "rshell"]
PALETTE = ROOT / "examples" / "data" / "palette.zip"


def base_env(tmp_path: Path) -> dict[str, str]:
    return private_env(tmp_path)


@pytest.fixture
def env(sandbox, tmp_path: Path) -> dict[str, str]:
    """Against the test's sandbox (the 'real API' of these tests)."""
    return {**base_env(tmp_path), "REPLICATE_BASE_URL": sandbox.url, "REPLICATE_API_TOKEN": sandbox.token}


@pytest.fixture
def local_env(tmp_path: Path) -> dict[str, str]:
    """For `--local`: no token, no base URL, a data directory of the test's own."""
    return base_env(tmp_path)


def rshell(*args: str, env: dict[str, str], cwd: Path, stdin: str = "") -> Outcome:
    """`rshell ARGS` in `cwd` with the environment `env`, through `cli.main` in this process."""
    return rshell_main(*args, stdin=stdin, env=env, cwd=cwd)


def predictions(sandbox) -> list[dict]:
    reply = httpx.get(f"{sandbox.url}/predictions", headers={"Authorization": f"Bearer {sandbox.token}"})
    return list(reversed(reply.json()["results"]))  # oldest first


def json_values(text: str) -> list:
    """Every JSON value printed one after another (results off a terminal)."""
    decoder, values, i = json.JSONDecoder(), [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        value, i = decoder.raw_decode(text, i)
        values.append(value)
    return values


# -- item 5: streamed text reused as joined text ----------------------------------------------


def test_streamed_text_inserts_joined_while_an_index_picks_a_token(env, tmp_path: Path, sandbox) -> None:
    lines = (
        "story = stream rshell/tinylm prompt=once max_tokens=6 seed=3",
        "run rshell/echo text={{story.output}}",
        "run rshell/echo text={{story.output[1]}}",
        "show story.output",
    )
    done = rshell("-c", "; ".join(lines), env=env, cwd=tmp_path)
    assert done.code == 0, done.stderr
    story, joined, token = predictions(sandbox)
    assert isinstance(story["output"], list) and len(story["output"]) == 6
    assert joined["input"]["text"] == "".join(story["output"])
    assert token["input"]["text"] == story["output"][1]
    assert json_values(done.stdout)[-1] == "".join(story["output"])


def _piped(left: list[str], right: list[str], env: dict[str, str], cwd: Path) -> Outcome:
    """`rshell LEFT | rshell RIGHT`: two runs, the JSON of one on the other's stdin."""
    first = rshell(*left, env=env, cwd=cwd)
    assert first.code == 0, first.stderr
    return rshell(*right, env=env, cwd=cwd, stdin=first.stdout)


def test_streamed_text_piped_between_two_processes_inserts_joined(env, tmp_path: Path, sandbox) -> None:
    left = ["run", "rshell/tinylm", "prompt=once", "max_tokens=5", "seed=2"]
    done = _piped(left, ["run", "rshell/echo", "text={{.output}}"], env, tmp_path)
    assert done.code == 0, done.stderr
    story, echoed = predictions(sandbox)
    assert isinstance(story["output"], list) and len(story["output"]) == 5
    assert echoed["input"]["text"] == "".join(story["output"])
    indexed = _piped(left, ["run", "rshell/echo", "text={{.output[0]}}"], env, tmp_path)
    assert indexed.code == 0, indexed.stderr
    assert predictions(sandbox)[-1]["input"]["text"] == predictions(sandbox)[-2]["output"][0]
    listed = _piped(
        ["run", "rshell/pixels", "prompt=x", "width=16"], ["run", "rshell/echo", "text={{.output}}"], env, tmp_path
    )
    assert listed.code == 0, listed.stderr
    image, echoed = predictions(sandbox)[-2:]
    assert json.loads(echoed["input"]["text"]) == image["output"]  # not streamed text: still a list


def test_a_list_that_is_not_streamed_text_stays_a_list(env, tmp_path: Path, sandbox) -> None:
    done = rshell(
        "-c",
        "img = run rshell/pixels prompt=x width=16 height=16; run rshell/echo text={{img.output}}",
        env=env,
        cwd=tmp_path,
    )
    assert done.code == 0, done.stderr
    image, echoed = predictions(sandbox)
    assert json.loads(echoed["input"]["text"]) == image["output"]


def test_streamed_text_stays_joined_in_the_next_session(env, tmp_path: Path, sandbox) -> None:
    first = rshell("--session", "s", "-c", "story = stream rshell/tinylm prompt=a max_tokens=4", env=env, cwd=tmp_path)
    assert first.code == 0, first.stderr
    again = rshell("--session", "s", "-c", "run rshell/echo text={{story.output}}", env=env, cwd=tmp_path)
    assert again.code == 0, again.stderr
    story, echoed = predictions(sandbox)
    assert echoed["input"]["text"] == "".join(story["output"])


def test_the_streaming_example_reuses_the_text(local_env, tmp_path: Path) -> None:
    done = rshell("--local", str(ROOT / "examples" / "streaming.rsh"), env=local_env, cwd=tmp_path)
    assert done.code == 0, done.stderr
    story, echoed = json_values(done.stdout)
    assert echoed["input"]["text"] == "".join(story["output"])
    assert echoed["output"] == "".join(story["output"]).upper()


# -- item 6: --local work outlives its process --------------------------------------------------


def _port(url: str) -> int:
    return httpx.URL(url).port or 0


def test_a_local_result_resolves_in_the_next_local_session(local_env, tmp_path: Path) -> None:
    first = rshell(
        "--local", "--session", "w", "-c", "img = run rshell/pixels prompt=x width=16", env=local_env, cwd=tmp_path
    )
    assert first.code == 0, first.stderr
    again = rshell(
        "--local",
        "--session",
        "w",
        "-c",
        "run rshell/upscale image={{img.output[0]}} scale=2",
        env=local_env,
        cwd=tmp_path,
    )
    assert again.code == 0, again.stderr
    (image,) = json_values(first.stdout)
    (upscaled,) = json_values(again.stdout)
    assert upscaled["status"] == "succeeded" and upscaled["input"]["image"] == image["output"][0]
    assert _port(upscaled["urls"]["get"]) == _port(image["urls"]["get"])  # the same address again


def test_the_local_pipe_chains_two_processes(local_env, tmp_path: Path) -> None:
    left = subprocess.Popen(
        RSHELL + ["--local", "run", "rshell/pixels", "prompt=fox", "width=16", "height=16"],
        env=local_env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    right = subprocess.run(
        RSHELL + ["--local", "run", "rshell/upscale", "image={{.output[0]}}", "scale=2"],
        env=local_env,
        cwd=tmp_path,
        stdin=left.stdout,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert left.stdout is not None
    left.stdout.close()
    assert left.wait(timeout=60) == 0, left.stderr.read() if left.stderr else ""
    assert right.returncode == 0, right.stderr
    (upscaled,) = json_values(right.stdout)
    assert upscaled["status"] == "succeeded" and upscaled["input"]["image"].endswith("/out-0.png")


def _wait_for(path: Path, process: subprocess.Popen) -> None:
    """Until `path` exists (the other process says it got there); bounded, not timed."""
    deadline = time.monotonic() + 60
    while not path.exists():
        assert process.poll() is None, "the holding process ended early"
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)


def test_two_local_processes_at_once_share_one_sandbox(local_env, tmp_path: Path) -> None:
    held, go = tmp_path / "held", tmp_path / "go"
    script = "first = run rshell/echo text=one\n" + _hold_until(held, go) + "run rshell/echo text=$first.output\n"
    holder = _holding(script, "hold", local_env, tmp_path)
    try:
        _wait_for(held, holder)
        other = rshell("--local", "run", "rshell/echo", "text=two", env=local_env, cwd=tmp_path)
        assert other.code == 0, other.stderr
    finally:
        go.touch()
        out, err = holder.communicate(timeout=60)
    assert holder.returncode == 0, err
    first, last = json_values(out)
    (shared,) = json_values(other.stdout)
    assert _port(shared["urls"]["get"]) == _port(first["urls"]["get"])
    assert last["input"]["text"] == "one"


def test_local_sessions_are_kept_apart_from_the_api_ones(env, tmp_path: Path) -> None:
    local = rshell("--local", "--session", "s", "-c", "here = run rshell/echo text=local", env=env, cwd=tmp_path)
    assert local.code == 0, local.stderr
    remote = rshell("--session", "s", "-c", "there = run rshell/echo text=api; vars; save r.rsh", env=env, cwd=tmp_path)
    assert remote.code == 0, remote.stderr
    assert json_values(remote.stdout)[-2] == {"there": "prediction"}
    assert (tmp_path / "r.rsh").read_text().splitlines()[1:] == ["there = run rshell/echo text=api"]
    back = rshell("--local", "--session", "s", "-c", "vars", env=env, cwd=tmp_path)
    assert json_values(back.stdout)[-1] == {"here": "prediction"}


def test_per_port_completion_caches_of_gone_sandboxes_are_removed(local_env, tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "rshell"
    cache.mkdir(parents=True)
    stale, kept = cache / "completion-127.0.0.1_1.json", cache / "completion.json"
    stale.write_text("{}")
    kept.write_text("{}")
    done = rshell("--local", "-c", "run rshell/echo text=x", env=local_env, cwd=tmp_path)
    assert done.code == 0, done.stderr
    assert not stale.exists() and kept.exists()


# -- item 8: save writes scripts that replay -----------------------------------------------------


def test_a_saved_session_replays_on_a_fresh_local_sandbox(local_env, tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "data").mkdir(parents=True)
    shutil.copy(PALETTE, work / "data" / "palette.zip")
    steps = (
        "model create sandbox/mine --hardware cpu; model list",
        "job = train rshell/palette-trainer --destination sandbox/mine input_images=@data/palette.zip steps=2",
    )
    for line in steps:
        done = rshell("--local", "--session", "t", "-c", line, env=local_env, cwd=work)
        assert done.code == 0, done.stderr
    training = json_values(done.stdout)[-1]
    _wait_for_training(training["id"], local_env, work)
    last = "model schema rshell/pixels; run sandbox/mine prompt=x width=16 height=16; save replay.rsh"
    saved = rshell("--local", "--session", "t", "-c", last, env=local_env, cwd=work)
    assert saved.code == 0, saved.stderr
    report = json_values(saved.stdout)[-1]
    assert {item["statement"] for item in report["left_out"]} >= {"model list", "model schema rshell/pixels"}
    script = (work / "replay.rsh").read_text().splitlines()
    assert not any(line.startswith(("model list", "model schema", "trainings show")) for line in script)
    assert any(line.startswith("job = train") and line.endswith(" --wait") for line in script)
    fresh = {**local_env, "XDG_DATA_HOME": str(tmp_path / "fresh")}
    replay = rshell("--local", str(work / "replay.rsh"), env=fresh, cwd=tmp_path)
    assert replay.code == 0, replay.stderr
    assert json_values(replay.stdout)[-1]["status"] == "succeeded"


def _wait_for_training(training_id: str, env: dict[str, str], cwd: Path) -> None:
    """Until the training has ended (the next statement runs the version it makes)."""
    for _ in range(100):
        shown = rshell("--local", "trainings", "show", training_id, env=env, cwd=cwd)
        if json_values(shown.stdout)[-1]["status"] in ("succeeded", "failed", "canceled"):
            return
    raise AssertionError("the training never ended")


# -- item 9: exit 2 means nothing was sent ---------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("run rshell/echo text=1\nbogus thing\n", "s.rsh:2: unknown command 'bogus'"),
        ("run rshell/echo text=1\nrun rshell/echo text=2 --wiat\n", "s.rsh:2:"),
        ("run rshell/echo text=1\nrun rshell/upscale image=@missing.png\n", "s.rsh:2: input 'image': no such file"),
        ("a = run rshell/echo text=1\nrun rshell/echo text={{b.output}}\n", "s.rsh:2: undefined variable 'b'"),
        ("run rshell/echo text=1 | bogus\n", "s.rsh:1: unknown command 'bogus'"),
        ("run rshell/echo text=1 | show\n", "s.rsh:1: `show` needs <expr>"),
        ("run rshell/echo text=1 | run rshell/echo text={{nope.output}}\n", "undefined variable 'nope'"),
        ("run rshell/echo text={{.output}}\n", "nothing was piped in"),
        ("unset a\nrun rshell/echo text=$a.output\n", "s.rsh:2: undefined variable 'a'"),
    ],
)
def test_a_usage_error_anywhere_sends_nothing(counted, tmp_path: Path, script: str, message: str) -> None:
    handle, seen = counted
    path = tmp_path / "s.rsh"
    path.write_text(script)
    done = in_process(tmp_path, handle, str(path))
    assert done.code == 2, done.stderr
    assert message in done.stderr
    assert seen == []


def in_process(tmp_path: Path, handle: Any, *args: str) -> Outcome:
    """`rshell ARGS` through the composition root in this process, against `handle`."""
    env = {**base_env(tmp_path), "REPLICATE_BASE_URL": handle.url, "REPLICATE_API_TOKEN": handle.token}
    return rshell(*args, env=env, cwd=tmp_path)


def test_names_bound_earlier_in_the_script_and_its_aliases_pass_the_check(counted, tmp_path: Path) -> None:
    handle, seen = counted
    path = tmp_path / "ok.rsh"
    path.write_text("alias say='run rshell/echo'\na = say text=1\nsay text={{a.output}}\nsay text=$_.output\n")
    done = in_process(tmp_path, handle, str(path))
    assert done.code == 0, done.stderr
    assert sum(line == "POST /v1/models/rshell/echo/predictions" for line in seen) == 3


# -- item 10: @path in a script is relative to its folder ----------------------------------------


@pytest.fixture
def examples_copy(tmp_path: Path) -> Path:
    """The examples in a folder of the test's own (they write out/ where they run)."""
    copy = tmp_path / "examples"
    shutil.copytree(ROOT / "examples", copy)
    return copy


def test_the_fine_tune_example_runs_from_its_folder(local_env, examples_copy: Path) -> None:
    done = rshell("--local", "fine-tune.rsh", env=local_env, cwd=examples_copy)
    assert done.code == 0, done.stderr
    assert (examples_copy / "out" / "fine-tuned" / "out-0.png").is_file()


def test_a_script_finds_its_files_from_any_working_directory(local_env, tmp_path: Path) -> None:
    folder = tmp_path / "scripts"
    folder.mkdir()
    from rshell.sandbox.predictors.png import encode

    (folder / "note.txt").write_text("beside the script")
    (folder / "pic.png").write_bytes(encode(2, 2, [b"\xff\x00\x00" * 2] * 2))
    (folder / "s.rsh").write_text("files upload note.txt\nrun rshell/upscale image=@pic.png scale=2\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = rshell("--local", "../scripts/s.rsh", env=local_env, cwd=elsewhere)
    assert done.code == 0, done.stderr
    uploaded, upscaled = json_values(done.stdout)
    assert uploaded["size"] == len("beside the script") and upscaled["status"] == "succeeded"
    missing = rshell("--local", "-c", "run rshell/upscale image=@pic.png", env=local_env, cwd=elsewhere)
    assert missing.code == 2 and "no such file: pic.png" in missing.stderr  # -c: the working directory


# -- item 11: dry-run placeholders have the output's shape ---------------------------------------


def test_dry_run_placeholders_follow_the_output_schema(env, tmp_path: Path, sandbox) -> None:
    script = tmp_path / "d.rsh"
    script.write_text(
        "img = run rshell/pixels prompt=fox\n"
        "big = run rshell/upscale image={{img.output[0]}}\n"
        "run rshell/echo text={{big.output}}\n"
        "story = stream rshell/tinylm prompt=a\n"
        "run rshell/echo text={{story.output}}\n"
    )
    done = rshell(str(script), "--dry-run", env=env, cwd=tmp_path)
    assert done.code == 0, done.stderr
    bodies = [json.loads(line.split(" ", 2)[2]) for line in done.stdout.splitlines() if line.startswith("POST ")]
    assert bodies[1]["input"]["image"] == "<img.output[0]>"  # a list of URLs: [0] is one of them
    assert bodies[2]["input"]["text"] == "<big.output>"  # one URL, not a list
    assert bodies[4]["input"]["text"] == "<story.output>"  # streamed text, joined
    assert predictions(sandbox) == []


def test_deployments_dry_run_without_a_token_goes_to_the_end(local_env, tmp_path: Path) -> None:
    done = rshell(str(ROOT / "examples" / "deployments.rsh"), "--dry-run", env=local_env, cwd=tmp_path)
    assert done.code == 0, done.stderr
    requests = [
        line.split(" ", 2)[:2] for line in done.stdout.splitlines() if line.split(" ")[0] in ("POST", "PATCH", "DELETE")
    ]
    methods = [method for method, _ in requests]
    assert methods == ["POST", "POST", "PATCH", "DELETE"]
    assert requests[1][1].endswith("/deployments/sandbox/pixels-prod/predictions")


def test_what_a_sourced_script_or_set_defines_is_not_refused(counted, tmp_path: Path) -> None:
    handle, seen = counted
    env = {**base_env(tmp_path), "REPLICATE_BASE_URL": handle.url, "REPLICATE_API_TOKEN": handle.token}
    (tmp_path / "setup.rsh").write_text("alias say='run rshell/echo'\nfirst = say text:1\n")
    path = tmp_path / "main.rsh"
    path.write_text("set separator :\nrun rshell/echo text:0\nsource setup.rsh\nsay text:{{first.output}}\n")
    done = rshell(str(path), env=env, cwd=tmp_path)
    assert done.code == 0, done.stderr
    assert sum(line == "POST /v1/models/rshell/echo/predictions" for line in seen) == 3


def _holding(script: str, name: str, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    """`rshell --local` running `script` from a file on its stdin."""
    path = cwd / f"{name}.rsh"
    path.write_text(script)
    with path.open() as stdin:
        return subprocess.Popen(
            RSHELL + ["--local"],
            env=env,
            cwd=cwd,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def _hold_until(mark: Path, go: Path) -> str:
    return f"!touch {mark}; while [ ! -e {go} ]; do sleep 0.02; done\n"


def test_a_sharing_session_goes_on_after_the_serving_one_ends(local_env, tmp_path: Path) -> None:
    from rshell.sandbox.local import answers

    owner = _holding(
        "run rshell/echo text=one\n" + _hold_until(tmp_path / "owner-held", tmp_path / "owner-go"),
        "owner",
        local_env,
        tmp_path,
    )
    try:
        _wait_for(tmp_path / "owner-held", owner)
        sharer = _holding(
            "a = run rshell/echo text=two\n"
            + _hold_until(tmp_path / "sharer-held", tmp_path / "sharer-go")
            + "run rshell/echo text=$a.output-three\n",
            "sharer",
            local_env,
            tmp_path,
        )
        _wait_for(tmp_path / "sharer-held", sharer)
    finally:
        (tmp_path / "owner-go").touch()
    _out, err = owner.communicate(timeout=60)
    assert owner.returncode == 0, err
    url = json.loads((tmp_path / "data" / "rshell" / "local" / "address.json").read_text())["url"]
    deadline = time.monotonic() + 60
    while not answers(url):  # the sharer serves the same address now
        assert sharer.poll() is None and time.monotonic() < deadline, "nobody took the sandbox over"
        time.sleep(0.02)
    (tmp_path / "sharer-go").touch()
    out, err = sharer.communicate(timeout=60)
    assert sharer.returncode == 0, err
    assert json_values(out)[-1]["output"] == "two-three"


def test_a_read_a_dry_run_cannot_make_still_binds_its_name(local_env, tmp_path: Path) -> None:
    script = tmp_path / "r.rsh"
    script.write_text("d = deployments show sandbox/x\nrun --deployment sandbox/x prompt={{d.id}}\n")
    done = rshell(str(script), "--dry-run", env=local_env, cwd=tmp_path)
    assert done.code == 0, done.stderr
    assert "not read: authentication failed" in done.stderr
    (post,) = [line for line in done.stdout.splitlines() if line.startswith("POST ")]
    assert json.loads(post.split(" ", 2)[2])["input"]["prompt"] == "dry-run-d"


def test_a_script_saved_in_another_folder_still_finds_its_files(local_env, tmp_path: Path) -> None:
    from rshell.sandbox.predictors.png import encode

    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    (work / "sub").mkdir(parents=True)
    elsewhere.mkdir()
    (work / "pic.png").write_bytes(encode(2, 2, [b"\x00\xff\x00" * 2] * 2))
    saved = rshell(
        "--local", "-c", "run rshell/upscale image=@pic.png scale=2; save sub/s.rsh", env=local_env, cwd=work
    )
    assert saved.code == 0, saved.stderr
    assert "run rshell/upscale image=@../pic.png scale=2" in (work / "sub" / "s.rsh").read_text()
    replay = rshell("--local", str(work / "sub" / "s.rsh"), env=local_env, cwd=elsewhere)
    assert replay.code == 0, replay.stderr


def test_save_rebases_path_arguments_for_the_scripts_folder(local_env, tmp_path: Path) -> None:
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    (work / "sub").mkdir(parents=True)
    elsewhere.mkdir()
    (work / "note.txt").write_text("uploaded from work")
    line = "f = files upload note.txt; files upload /dev/null; save sub/s.rsh"
    saved = rshell("--local", "-c", line, env=local_env, cwd=work)
    assert saved.code == 0, saved.stderr
    script = (work / "sub" / "s.rsh").read_text().splitlines()
    assert "f = files upload ../note.txt" in script
    assert "files upload /dev/null" in script  # an absolute path stays as it is
    replay = rshell("--local", str(work / "sub" / "s.rsh"), env=local_env, cwd=elsewhere)
    assert replay.code == 0, replay.stderr
    uploaded = json_values(replay.stdout)[0]
    assert uploaded["size"] == len("uploaded from work")


SAVED_EXAMPLE = ROOT / "examples" / "saved-session.rsh"
SAVED_SESSION = (
    'img = run rshell/pixels prompt="a fox saved for later" width=32 height=32 seed=5; '
    "model schema rshell/upscale; "
    "big = run rshell/upscale image={{img.output[0]}} scale=2 --save --output-directory out/saved; "
    "show big.output; save s.rsh"
)


def test_the_saved_session_example_is_what_save_writes(local_env, tmp_path: Path) -> None:
    """examples/saved-session.rsh is a script `save` wrote (CI replays every example, so
    one written by `save` replays too): the same session saves the same statements."""
    done = rshell("--local", "-c", SAVED_SESSION, env=local_env, cwd=tmp_path)
    assert done.code == 0, done.stderr
    written = (tmp_path / "s.rsh").read_text().splitlines()
    example = SAVED_EXAMPLE.read_text().splitlines()
    assert example[0] == written[0]  # save's own first line
    statements = [line for line in written if not line.startswith("#")]
    assert len(statements) == 2 and [line for line in example if not line.startswith("#")] == statements
