"""`rshell --complete`: answers from the disk cache, one quick fetch when it lacks data,
and the bash script in completers/ run for real against it."""

from __future__ import annotations

import asyncio
import io
import os
import shlex
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import respx
from test_completion_support import BASE, SDXL_ORDER, SDXL_SCHEMA, SDXL_VERSION, TOKEN, install_api

from rshell.completion import oneshot
from rshell.completion.cache import CompletionCache, ModelInfo, default_path
from rshell.completion.matcher import Candidate

ROOT = Path(__file__).resolve().parents[1]
HANG = 30.0  # seconds: only bounds a hang; no test asserts on it


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HOME, cache, config and data dir; no token unless a test sets one."""
    for name in ("HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "RSHELL_DATA_DIR"):
        path = tmp_path / name.lower()
        path.mkdir()
        monkeypatch.setenv(name, str(path))
    for name in ("REPLICATE_API_TOKEN", "REPLICATE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def warm_cache() -> Path:
    """A disk cache as an earlier session left it."""
    path = default_path(None)
    cache = CompletionCache(path)
    cache.put_models(
        [
            ModelInfo("stability-ai/sdxl", "A text-to-image model", 76_000_000),
            ModelInfo("stability-ai/stable-diffusion", "Latent diffusion", 110_000_000),
        ]
    )
    cache.put_schema("stability-ai/sdxl", SDXL_SCHEMA, SDXL_VERSION)
    cache.put_list("hardware", [Candidate("cpu", "CPU"), Candidate("gpu-t4", "Nvidia T4 GPU")])
    cache.mark("models", "")
    cache.mark("hardware")
    cache.save()
    return path


def complete(line: str) -> list[str]:
    out = io.StringIO()
    assert oneshot.main(line, out) == 0
    return out.getvalue().splitlines()


def test_answers_from_the_disk_cache_with_whole_words_and_meta(home: Path) -> None:
    warm_cache()
    assert (
        complete("rshell run stability-ai/sdxl num")[0]
        == "num_inference_steps=\tinteger = 50 — Number of denoising steps"
    )
    assert complete("rshell run stability-ai/sdxl scheduler=K_E") == [
        "scheduler=K_EULER_ANCESTRAL",
        "scheduler=K_EULER\tdefault",
    ]
    assert complete("rshell model create a/b --hardware=g") == ["--hardware=gpu-t4\tNvidia T4 GPU"]
    assert complete("rshell model sch")[0].startswith("schema\t")
    assert complete("rshell run stab")[0] == "stability-ai/stable-diffusion\t110M runs · Latent diffusion"


def test_strips_the_program_and_rshell_options(home: Path) -> None:
    warm_cache()
    assert oneshot.strip_program("rshell --json --session work run a/b ") == ("run a/b ", "work")
    assert complete("rshell --local --json run stability-ai/sdxl wid") == [
        "width=\tinteger = 1024 — Width of output image"
    ]
    assert complete("replicate model sche") == ["schema\tShow a model version's inputs and output."]


def test_no_cache_and_no_token_answers_what_it_can_silently(home: Path) -> None:
    with respx.mock(assert_all_called=False) as router:
        api = install_api(router)
        assert complete("rshell run stability-ai/sdxl ") == []
        assert complete("rshell hardware l") == ["list\tList hardware SKUs for models and deployments."]
    assert api.calls == []  # no token: nothing is sent


def test_one_quick_fetch_fills_and_saves_the_cache(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", TOKEN)
    with respx.mock(assert_all_called=False) as router:
        api = install_api(router)
        assert [line.split("\t")[0] for line in complete("rshell run stability-ai/sdxl ")] == [
            k + "=" for k in SDXL_ORDER
        ]
        assert "model:stability-ai/sdxl" in api.calls
        calls = len(api.calls)
        # saved: the next Tab answers from disk without a request
        assert [line.split("\t")[0] for line in complete("rshell run stability-ai/sdxl ")] == [
            k + "=" for k in SDXL_ORDER
        ]
        assert len(api.calls) == calls
    saved = CompletionCache(default_path(BASE))
    assert saved.load() and "stability-ai/sdxl" in saved.schemas


def test_a_hanging_api_costs_at_most_the_fetch_budget(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    warm_cache()
    monkeypatch.setenv("REPLICATE_API_TOKEN", TOKEN)
    monkeypatch.setattr(oneshot, "FETCH_BUDGET", 0.05)  # tiny, so giving up on it is quick
    codes: list[int] = []
    with respx.mock(assert_all_called=False) as router:
        api = install_api(router)
        api.gates["model:black-forest-labs/flux-schnell"] = asyncio.Event()  # never set: the API hangs
        tab = threading.Thread(target=lambda: codes.append(oneshot.main("rshell run black-forest-labs/flux-schnell ")))
        tab.start()
        tab.join(HANG)  # a Tab that waited for the API itself, not the budget, never returns
        assert not tab.is_alive(), "rshell --complete waited on a hanging API past its fetch budget"
    assert codes == [0]
    assert api.calls == ["model:black-forest-labs/flux-schnell"]  # it did ask, then gave up
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing known, nothing printed, no error on stdout


def test_a_broken_cache_file_is_ignored(home: Path) -> None:
    path = default_path(None)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert complete("rshell model sche") == ["schema\tShow a model version's inputs and output."]


# the bash script, for real --------------------------------------------------------------------


@pytest.fixture
def shim(home: Path) -> Path:
    """A directory with an `rshell` on PATH that runs the oneshot entry."""
    bin_dir = home / "bin"
    bin_dir.mkdir()
    script = bin_dir / "rshell"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "from rshell.completion.oneshot import main\n"
        "assert sys.argv[1] == '--complete', sys.argv\n"
        "sys.exit(main(sys.argv[2]))\n"
    )
    script.chmod(0o755)
    return bin_dir


def bash_complete(bin_dir: Path, line: str, words: list[str], cword: int) -> list[str]:
    """Source completers/rshell.bash, set COMP_* as bash would, call the function."""
    array = " ".join(shlex.quote(w) for w in words)
    program = f"""
        source {shlex.quote(str(ROOT / "completers" / "rshell.bash"))}
        COMP_LINE={shlex.quote(line)}
        COMP_POINT=${{#COMP_LINE}}
        COMP_WORDS=({array})
        COMP_CWORD={cword}
        _rshell_complete
        printf '%s\\n' "${{COMPREPLY[@]}}"
        complete -p rshell
    """
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "complete -o nospace -F _rshell_complete rshell"
    return lines[:-1]


def test_bash_completes_commands_and_model_inputs(shim: Path) -> None:
    warm_cache()
    assert bash_complete(shim, "rshell model sche", ["rshell", "model", "sche"], 2) == ["schema "]
    assert bash_complete(
        shim, "rshell run stability-ai/sdxl num", ["rshell", "run", "stability-ai/sdxl", "num"], 3
    ) == ["num_inference_steps="]
    # bash splits at `=`: the word under the cursor is `K_E` (or `=` right after it)
    assert bash_complete(
        shim,
        "rshell run stability-ai/sdxl scheduler=K_E",
        ["rshell", "run", "stability-ai/sdxl", "scheduler", "=", "K_E"],
        5,
    ) == ["K_EULER_ANCESTRAL", "K_EULER"]
    assert bash_complete(
        shim, "rshell run stability-ai/sdxl refine=", ["rshell", "run", "stability-ai/sdxl", "refine", "="], 4
    ) == ["=no_refiner", "=expert_ensemble_refiner", "=base_image_refiner"]
    assert bash_complete(
        shim, "rshell model create a/b --hardware ", ["rshell", "model", "create", "a/b", "--hardware", ""], 5
    ) == ["cpu", "gpu-t4"]


def test_bash_completes_local_paths_after_at(shim: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    (work / "images").mkdir(parents=True)
    (work / "images" / "fox.png").write_bytes(b"x")
    monkeypatch.chdir(work)
    line = "rshell run a/b image=@ima"
    assert bash_complete(shim, line, ["rshell", "run", "a/b", "image", "=", "@ima"], 5) == ["@images/"]
    line = "rshell run a/b image=@images/f"
    assert bash_complete(shim, line, ["rshell", "run", "a/b", "image", "=", "@images/f"], 5) == ["@images/fox.png "]


def test_the_real_entry_point_answers_too(home: Path) -> None:
    warm_cache()
    done = subprocess.run(
        [sys.executable, "-m", "rshell", "--complete", "rshell model sche"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["schema\tShow a model version's inputs and output."]
