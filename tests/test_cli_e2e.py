"""rshell as a user runs it: its command lines against a live sandbox on 127.0.0.1.

These are the issue's "done means": one-shots, scripts, chaining across runs,
saved files and exit codes, with the README's examples replayed as CI does. Each
run goes through the composition root `cli.main(args, env)` in this process
(`rsh.rshell_main`), with the environment and working directory a process would
have: nothing here needs a real process.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from processes import sandbox_env
from rsh import Outcome, rshell_main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def env(sandbox, tmp_path: Path) -> dict[str, str]:
    return sandbox_env(sandbox, tmp_path)


def rshell(*args: str, env: dict[str, str], cwd: Path, stdin: str = "") -> Outcome:
    return rshell_main(*args, stdin=stdin, env=env, cwd=cwd)


def predictions(sandbox) -> list[dict]:
    reply = httpx.get(f"{sandbox.url}/predictions", headers={"Authorization": f"Bearer {sandbox.token}"})
    return reply.json()["results"]


def test_hardware_list_as_json_off_a_terminal(env, tmp_path: Path) -> None:
    done = rshell("-c", "hardware list", env=env, cwd=tmp_path)
    assert done.code == 0, done.stderr
    skus = [h["sku"] for h in json.loads(done.stdout)]
    assert "cpu" in skus


def test_model_schema_one_shot(env, tmp_path: Path) -> None:
    done = rshell("model", "schema", "rshell/pixels", env=env, cwd=tmp_path)
    assert done.code == 0, done.stderr
    schema = json.loads(done.stdout)
    assert "prompt" in json.dumps(schema)


def test_run_with_save_writes_real_files(env, tmp_path: Path) -> None:
    done = rshell("run", "rshell/pixels", "prompt=a red fox", "width=32", "height=16", "--save", env=env, cwd=tmp_path)
    assert done.code == 0, done.stderr
    prediction = json.loads(done.stdout)
    assert prediction["status"] == "succeeded"
    saved = list((tmp_path / prediction["id"]).iterdir())
    assert [p.suffix for p in saved] == [".png"]
    assert saved[0].read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_chaining_across_processes(env, tmp_path: Path) -> None:
    first = rshell("run", "rshell/echo", "text=hello", env=env, cwd=tmp_path)
    assert first.code == 0, first.stderr
    second = rshell("run", "rshell/echo", "text={{.output}} again", env=env, cwd=tmp_path, stdin=first.stdout)
    assert second.code == 0, second.stderr
    assert json.loads(second.stdout)["input"]["text"] == f"{json.loads(first.stdout)['output']} again"


def test_chained_dash_c_pipeline(env, tmp_path: Path) -> None:
    statements = "a = run rshell/echo text=one; run rshell/echo text=$a.output | show .input.text; show a.output"
    done = rshell("-c", statements, env=env, cwd=tmp_path)
    assert done.code == 0, done.stderr
    piped_text, first_output = done.stdout.splitlines()[-2:]
    assert json.loads(first_output) and piped_text == first_output


def test_train_with_a_zip_upload_creates_a_version(env, tmp_path: Path, sandbox) -> None:
    assert rshell("model", "create", "sandbox/mine", "--hardware", "cpu", env=env, cwd=tmp_path).code == 0
    data = ROOT / "examples" / "data" / "palette.zip"
    done = rshell(
        "train",
        "rshell/palette-trainer",
        "--destination",
        "sandbox/mine",
        f"input_images=@{data}",
        "--wait",
        env=env,
        cwd=tmp_path,
    )
    assert done.code == 0, done.stderr
    training = json.loads(done.stdout)
    assert training["status"] == "succeeded"
    new_version = training["output"]["version"]  # "owner/name:id", as Replicate gives it
    assert new_version.startswith("sandbox/mine:")
    run = rshell("run", new_version, "prompt=x", env=env, cwd=tmp_path)
    assert run.code == 0, run.stderr


def test_deployments_create_and_run_through_it(env, tmp_path: Path) -> None:
    done = rshell(
        "deployments", "create", "dep", "--model", "rshell/pixels", "--hardware", "cpu", env=env, cwd=tmp_path
    )
    assert done.code == 0, done.stderr
    assert json.loads(done.stdout)["current_release"]["number"] == 1
    run = rshell("run", "--deployment", "sandbox/dep", "prompt=via deployment", "width=16", env=env, cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["status"] == "succeeded"


def test_deploying_an_official_model_is_refused_before_creating(env, tmp_path: Path, sandbox) -> None:
    done = rshell("deployments", "create", "dep", "--model", "rshell/echo", env=env, cwd=tmp_path)
    assert done.code == 1
    assert (
        done.stderr.splitlines()[0]
        == "error: rshell/echo is an official model: it runs by name, with no version to deploy"
    )
    listed = httpx.get(f"{sandbox.url}/deployments", headers={"Authorization": f"Bearer {sandbox.token}"})
    assert listed.json()["results"] == []


def latest_version(sandbox, model: str) -> str:
    reply = httpx.get(f"{sandbox.url}/models/{model}", headers={"Authorization": f"Bearer {sandbox.token}"})
    return reply.json()["latest_version"]["id"]


def test_run_routes_official_models_by_name_and_the_others_by_version(env, tmp_path: Path, sandbox) -> None:
    """SPEC 5 end to end: each built-in model runs where the real API would run it."""
    ran = {}
    for line in (
        "run rshell/echo text=hi",
        "run rshell/pixels prompt=x width=16 height=16",
        "stream rshell/tinylm prompt=a max_tokens=3",
    ):
        done = rshell("-c", line, env=env, cwd=tmp_path)
        assert done.code == 0, done.stderr
        ran[line.split()[1]] = json.loads(done.stdout)
    assert ran["rshell/echo"]["output"] == "hi" and ran["rshell/echo"]["version"] == "hidden"
    assert ran["rshell/pixels"]["version"] == latest_version(sandbox, "rshell/pixels")
    assert ran["rshell/tinylm"]["status"] == "succeeded" and ran["rshell/tinylm"]["version"] == "hidden"


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "rshell/pixels", "promt=x"], "unknown input 'promt'"),
        (["run", "rshell/pixels", "prompt=x", "width=99999"], "input 'width' must be <="),
        (["run", "rshell/pixels", "prompt=x", "style=oil"], "input 'style' must be one of"),
        (["run", "rshell/pixels", "width=32"], "missing required input 'prompt'"),
        (["run", "rshell/pixels", "prompt=x", "width=wide"], "input 'width' must be an integer"),
        (["run", "rshell/upscale", "image=@/no/such/file.png"], "/no/such/file.png"),
        (["rnu", "rshell/pixels"], "did you mean 'run'?"),
    ],
)
def test_bad_input_exits_2_and_creates_nothing(env, tmp_path: Path, sandbox, args: list[str], message: str) -> None:
    done = rshell(*args, env=env, cwd=tmp_path)
    assert done.code == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) <= 2
    assert predictions(sandbox) == []


def test_failed_prediction_exits_1(env, tmp_path: Path) -> None:
    text_file = tmp_path / "not-a-png.png"
    text_file.write_text("plain text")
    done = rshell("run", "rshell/upscale", f"image=@{text_file}", env=env, cwd=tmp_path)
    assert done.code == 1
    assert "failed" in done.stderr and json.loads(done.stdout)["status"] == "failed"


def test_no_token_says_how_to_set_one(env, tmp_path: Path) -> None:
    del env["REPLICATE_API_TOKEN"]
    done = rshell("-c", "account current", env=env, cwd=tmp_path)
    assert done.code == 1
    assert "no API token" in done.stderr and "rshell auth login" in done.stderr


def test_script_stops_at_first_error_with_file_and_line(env, tmp_path: Path, sandbox) -> None:
    script = tmp_path / "s.rsh"
    script.write_text("run rshell/echo text=1\nrun rshell/echo bogus=1\nrun rshell/echo text=3\n")
    done = rshell(str(script), env=env, cwd=tmp_path)
    assert done.code == 2
    assert f"{script}:2: unknown input 'bogus'" in done.stderr
    assert len(predictions(sandbox)) == 0  # exit 2: found before the first create (issue 17)
    again = rshell(str(script), "--keep-going", env=env, cwd=tmp_path)
    assert again.code == 2 and len(predictions(sandbox)) == 2


def test_script_on_stdin(env, tmp_path: Path) -> None:
    done = rshell(env=env, cwd=tmp_path, stdin="x = run rshell/echo text=piped\nshow x.input.text\n")
    assert done.code == 0, done.stderr
    assert done.stdout.splitlines()[-1] == '"piped"'  # JSON: stdout is not a terminal


def test_dry_run_sends_no_mutation(env, tmp_path: Path, sandbox) -> None:
    script = tmp_path / "d.rsh"
    script.write_text("img = run rshell/pixels prompt=fox\nrun rshell/upscale image={{img.output[0]}}\n")
    done = rshell(str(script), "--dry-run", env=env, cwd=tmp_path)
    assert done.code == 0, done.stderr
    lines = done.stdout.splitlines()
    pixels, upscale = latest_version(sandbox, "rshell/pixels"), latest_version(sandbox, "rshell/upscale")
    assert lines[0] == f'POST {sandbox.url}/predictions {{"version":"{pixels}","input":{{"prompt":"fox"}}}}'
    assert lines[1].startswith(f'POST {sandbox.url}/predictions {{"version":"{upscale}"')
    assert predictions(sandbox) == []


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "examples").glob("*.rsh")))
def test_examples_replay_on_the_local_sandbox(script: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLICATE_", "XDG_"))}
    env.update(HOME=str(tmp_path / "home"), PYTHONPATH=str(ROOT))
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    done = rshell("--local", f"examples/{script}", env=env, cwd=tmp_path)
    assert done.code == 0, done.stderr
    assert "error" not in done.stderr.lower()


def test_files_download_follows_the_signed_url_on_the_sandbox(env, tmp_path: Path) -> None:
    source = tmp_path / "note.txt"
    source.write_bytes(b"signed and delivered")
    uploaded = rshell("files", "upload", str(source), env=env, cwd=tmp_path)
    assert uploaded.code == 0, uploaded.stderr
    file_id = json.loads(uploaded.stdout)["id"]
    done = rshell("files", "download", file_id, str(tmp_path / "back.txt"), env=env, cwd=tmp_path)
    assert done.code == 0, done.stderr
    assert (tmp_path / "back.txt").read_bytes() == b"signed and delivered"


def test_wait_in_a_one_shot_script_rebinds_for_the_next_statement(env, tmp_path: Path) -> None:
    """`bg = run … --no-wait`, `wait bg`, then the next statement sees the finished run."""
    script = "bg = run rshell/echo text=hello --no-wait; wait bg; show bg.status"
    done = rshell("-c", script, env=env, cwd=tmp_path)
    assert done.code == 0, done.stderr
    assert done.stdout.splitlines()[-1] == '"succeeded"'


def test_the_readmes_base_url_is_the_form_every_client_accepts(env, sandbox, tmp_path: Path) -> None:
    """Issue 20: the official Go CLI needs REPLICATE_BASE_URL with `/v1`; the README shows
    that form, and rshell takes it as it takes the bare origin."""
    line = next(x for x in (ROOT / "README.md").read_text().splitlines() if "REPLICATE_BASE_URL=" in x)
    shown = line.split("REPLICATE_BASE_URL=", 1)[1].split()[0]
    assert shown == "http://127.0.0.1:8000/v1"
    for given in (shown.replace("127.0.0.1:8000", sandbox.url.split("//")[1].split("/")[0]), sandbox.root):
        done = rshell("--json", "-c", "model list", env={**env, "REPLICATE_BASE_URL": given}, cwd=tmp_path)
        assert done.code == 0, done.stderr
        assert "rshell" in {m["owner"] for m in json.loads(done.stdout)["results"]}
