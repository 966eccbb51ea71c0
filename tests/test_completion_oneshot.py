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
from collections.abc import Iterator
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
    assert oneshot.read_line("rshell --json --session work run a/b ") == oneshot.ShellLine("run a/b ", "work")
    assert oneshot.read_line("rshell --local --session=w --dry-run model ") == oneshot.ShellLine("model ", "w", True)
    assert oneshot.read_line("rshell --local ") == oneshot.ShellLine("", None, True)
    assert oneshot.read_line("rshell --local --js") == oneshot.ShellLine("--js", None, True, at_option=True)
    assert oneshot.read_line("rshell --session ") == oneshot.ShellLine("", option_value="--session")
    assert oneshot.read_line("rshell -c 'run a/b ").nothing
    assert complete("rshell --json --session work run stability-ai/sdxl wid") == [
        "width=\tinteger = 1024 — Width of output image"
    ]
    assert complete("replicate model sche") == ["schema\tShow a model version's inputs and output."]


def test_shell_forms_keep_only_what_extends_the_typed_word(home: Path) -> None:
    warm_cache()
    line = "rshell run stability-ai/sd"  # the plain answer ranks stable-diffusion too (fuzzy)
    assert [w.split("\t")[0] for w in complete(line)] == ["stability-ai/sdxl", "stability-ai/stable-diffusion"]
    assert oneshot.answer(line, "bash") == ["stability-ai/sdxl "]
    assert oneshot.answer(line, "fish") == ["stability-ai/sdxl\t76M runs · A text-to-image model"]
    assert oneshot.answer(line, "zsh") == [
        "done\tstability-ai/sdxl\tstability-ai/sdxl  -- 76M runs · A text-to-image model"
    ]
    keys = "rshell run stability-ai/sdxl scheduler=K_E"
    assert oneshot.answer(keys, "bash") == ["K_EULER_ANCESTRAL", "K_EULER"]
    assert oneshot.answer(keys, "bash", breaks=" \t\n") == [  # a user's COMP_WORDBREAKS without `=`
        "scheduler=K_EULER_ANCESTRAL",
        "scheduler=K_EULER",
    ]
    assert oneshot.answer(keys, "zsh")[1] == "done\tscheduler=K_EULER\tK_EULER  -- default"
    assert oneshot.answer("rshell run stability-ai/sdxl neg", "zsh") == [
        'open\tnegative_prompt=\tnegative_prompt=  -- string = "" — Things to leave out'
    ]
    assert oneshot.answer("rshell run stability-ai/sdxl neg", "bash") == ["negative_prompt="]
    assert oneshot.answer("rshell --lo", "bash") == ["--local "]
    assert oneshot.answer("rshell no-such-command x", "bash") == []


def test_shell_word_start_follows_readline_and_zsh() -> None:
    breaks = oneshot.BASH_WORDBREAKS
    start = oneshot.shell_word_start
    assert start("style=gra", breaks, True) == len("style=")
    assert start("a/b:2c", breaks, True) == len("a/b:")
    assert start("image=@ex", breaks, True, keep="@") == len("image=")  # the @ stays in the word
    assert start("prompt='a=b", breaks, True) == len("prompt='")  # inside quotes: after the quote
    assert start("prompt='a=b' x=", breaks, True) == len("prompt='a=b' x=")
    assert start("a\\=b", breaks, True) == 0  # an escaped break does not break
    assert start("prompt={{ img.o", oneshot.SHELL_BLANKS, False) == len("prompt={{ ")
    assert start("style=gra", oneshot.SHELL_BLANKS, False) == 0


@pytest.fixture
def local_sandbox(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The --local sandbox's folder under the private data dir; whatever serves it is
    stopped after the test. Starting a server in this process is a failure."""
    import rshell.sandbox.server as server
    from rshell.sandbox.local import local_dir, stop_local

    def no_second_server(*args: object, **kwargs: object) -> object:
        raise AssertionError("--complete started a sandbox of its own")

    monkeypatch.setattr(server, "start", no_second_server)
    monkeypatch.setenv("RSHELL_LOCAL_IDLE", "120")  # stays up across the test; stopped below
    root = local_dir()
    yield root
    stop_local(root)


def _local_rshell(*args: str) -> subprocess.CompletedProcess[str]:
    """A real `rshell --local …` process with this test's private folders."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "rshell", "--local", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_local_completes_from_the_sandbox_a_local_run_uses(
    local_sandbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--local --complete` goes through the composition root to the detached sandbox:
    a model a `--local` process made there completes, and no second server starts."""
    from rshell.sandbox.local import serving

    monkeypatch.setattr(oneshot, "FETCH_BUDGET", 60.0)  # a loaded machine must not fail this
    made = _local_rshell("model", "create", "sandbox/zebra-tabs", "--hardware", "cpu", "--private")
    assert made.returncode == 0, made.stderr
    url = serving(local_sandbox)
    assert url is not None
    assert oneshot.answer("rshell --local run sandbox/zebra-t", "bash") == ["sandbox/zebra-tabs "]
    assert oneshot.answer("rshell --local run rshell/pixels sty", "bash") == ["style="]
    assert serving(local_sandbox) == url  # the same server answered


def test_local_completion_starts_the_detached_sandbox_then_answers_from_the_cache(
    local_sandbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rshell.sandbox.local import serving, stop_local

    monkeypatch.setattr(oneshot, "FETCH_BUDGET", 60.0)
    assert oneshot.answer("rshell --local run rshell/pi", "bash") == ["rshell/pixels "]
    assert serving(local_sandbox) is not None  # the one a `--local run` would use
    assert stop_local(local_sandbox)
    assert oneshot.answer("rshell --local run rshell/pi", "bash") == ["rshell/pixels "]
    assert serving(local_sandbox) is None  # cached: no sandbox was needed
    assert complete("rshell run rshell/pi") == []  # the local cache is not the API's


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
    script.write_text(f"#!{sys.executable}\nimport sys\nfrom rshell.cli import main\nsys.exit(main())\n")
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
    # readline's word begins after the `=` (a COMP_WORDBREAKS character): the replies start there
    assert bash_complete(
        shim,
        "rshell run stability-ai/sdxl scheduler=K_E",
        ["rshell", "run", "stability-ai/sdxl", "scheduler", "=", "K_E"],
        5,
    ) == ["K_EULER_ANCESTRAL", "K_EULER"]
    assert bash_complete(
        shim, "rshell run stability-ai/sdxl refine=", ["rshell", "run", "stability-ai/sdxl", "refine", "="], 4
    ) == ["no_refiner", "expert_ensemble_refiner", "base_image_refiner"]
    # fuzzy matches (stable-diffusion for `sdx`) would shorten the word: only extensions are offered
    assert bash_complete(shim, "rshell run stability-ai/sd", ["rshell", "run", "stability-ai/sd"], 2) == [
        "stability-ai/sdxl "
    ]
    assert bash_complete(
        shim, "rshell model create a/b --hardware ", ["rshell", "model", "create", "a/b", "--hardware", ""], 5
    ) == ["cpu", "gpu-t4"]


def test_bash_completes_local_paths_after_at(shim: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    (work / "images").mkdir(parents=True)
    (work / "images" / "fox.png").write_bytes(b"x")
    monkeypatch.chdir(work)
    # readline keeps `@` in the word it starts (rl_special_prefixes): so must the reply
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
