"""`scaffold`: starter projects from the built-in templates, online and offline."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess

import api_fixtures as fx
import httpx
import pytest
from rsh import BASE, TOKEN, mocked, rsh

from rshell.commands import scaffold as sc
from rshell.errors import ApiError, UsageError

TRICKY_INPUT = {
    "prompt": 'a "quoted" {{model}} prompt\nwith a newline, \\ and ünïcode',
    "width": 1024,
    "guidance": 7.5,
    "watermark": False,
    "seed": None,
    "images": ["https://replicate.delivery/a.png"],
}


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def all_text(directory) -> str:
    return "\n".join(p.read_text() for p in directory.rglob("*") if p.is_file())


def python_constants(source: str) -> dict:
    """MODEL and INPUT as assigned in a generated main.py (parsed, not executed)."""
    tree = ast.parse(source)
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = ast.literal_eval(node.value)
    return found


def js_constants(source: str) -> dict:
    """`const model = …;` and `const input = …;` of a generated index.js, read as JSON."""
    found = {}
    for name in ("model", "input"):
        start = source.index(f"const {name} = ") + len(f"const {name} = ")
        end = source.index(";\n", start)
        found[name] = json.loads(source[start:end])
    return found


def test_python_project_from_a_fetched_prediction(api, here):
    api.get(f"/predictions/{fx.PREDICTION_ID}").respond(200, json=fx.prediction(input=TRICKY_INPUT))
    ran = mocked(f"scaffold {fx.PREDICTION_ID} --template python")
    project = here / "sdxl"  # the default directory is the model's name
    assert sorted(p.name for p in project.iterdir()) == [
        ".env.example",
        ".gitignore",
        "README.md",
        "main.py",
        "requirements.txt",
    ]
    source = (project / "main.py").read_text()
    compile(source, "main.py", "exec")
    assert python_constants(source) == {"MODEL": f"stability-ai/sdxl:{fx.VERSION_ID}", "INPUT": TRICKY_INPUT}
    assert "REPLICATE_API_TOKEN" in source
    assert (project / "requirements.txt").read_text().split() == ["replicate>=1.0"]
    assert "REPLICATE_API_TOKEN=\n" in (project / ".env.example").read_text()
    assert ran.data["model"] == "stability-ai/sdxl" and ran.data["directory"] == "sdxl"
    assert ran.stdout.startswith("wrote python project sdxl/ running stability-ai/sdxl:")
    assert TOKEN not in all_text(project)


def test_node_project_from_a_prediction_url(api, here):
    api.get(f"/predictions/{fx.PREDICTION_ID}").respond(200, json=fx.prediction(input=TRICKY_INPUT))
    assert mocked(f"scaffold https://replicate.com/p/{fx.PREDICTION_ID} my-app --template node").code == 0
    project = here / "my-app"
    assert sorted(p.name for p in project.iterdir()) == [
        ".env.example",
        ".gitignore",
        "README.md",
        "index.js",
        "package.json",
    ]
    package = json.loads((project / "package.json").read_text())
    assert package["name"] == "my-app"
    assert package["dependencies"]["replicate"].startswith("^1.")
    assert package["type"] == "module"
    source = (project / "index.js").read_text()
    assert js_constants(source) == {"model": f"stability-ai/sdxl:{fx.VERSION_ID}", "input": TRICKY_INPUT}
    assert "process.env.REPLICATE_API_TOKEN" in source
    assert "{{" not in source.replace("{{model}}", "")  # every slot filled (the one in the input is data)
    if shutil.which("node"):  # the machine has node: prove the file is valid JavaScript
        check = subprocess.run(["node", "--check", str(project / "index.js")], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
    assert TOKEN not in all_text(project)


def test_node_is_the_default_template(api, here):
    api.get(f"/predictions/{fx.PREDICTION_ID}").respond(200, json=fx.prediction())
    assert mocked(f"scaffold {fx.PREDICTION_ID}").code == 0
    assert (here / "sdxl" / "index.js").exists()


def test_a_hidden_version_runs_the_model_endpoint(api, here):
    api.get(f"/predictions/{fx.PREDICTION_ID}").respond(
        200, json=fx.prediction(model="black-forest-labs/flux-schnell", version="hidden")
    )
    assert mocked(f"scaffold {fx.PREDICTION_ID} --template python").code == 0
    source = (here / "flux-schnell" / "main.py").read_text()
    assert python_constants(source)["MODEL"] == "black-forest-labs/flux-schnell"


@pytest.mark.parametrize("template", ["python", "node"])
def test_offline_writes_a_placeholder_and_says_so(api, here, template):
    api.get(f"/predictions/{fx.PREDICTION_ID}").mock(side_effect=httpx.ConnectError("no route to host"))
    ran = mocked(f"scaffold {fx.PREDICTION_ID} --template {template}")
    project = here / fx.PREDICTION_ID
    assert "could not fetch prediction" in ran.stderr and "placeholder" in ran.stderr
    main = project / ("main.py" if template == "python" else "index.js")
    source = main.read_text()
    assert "OWNER/MODEL" in source and "TODO" in source
    if template == "python":
        compile(source, "main.py", "exec")
        assert python_constants(source)["INPUT"] == {}
    else:
        assert js_constants(source) == {"model": "OWNER/MODEL", "input": {}}
    assert ran.data["model"] is None


def test_without_a_token_it_still_writes_the_project(api, here):
    ran = rsh(f"scaffold {fx.PREDICTION_ID} out --template python", api=(BASE, None))
    assert ran.code == 0
    assert (here / "out" / "main.py").exists()
    assert "could not fetch" in ran.stderr
    assert api.calls.call_count == 0


def test_an_unknown_prediction_is_an_api_error_and_writes_nothing(api, here):
    api.get("/predictions/nope").respond(404, json=fx.problem(404, "Prediction not found"))
    ran = mocked("scaffold nope out")
    assert ran.code == 1 and isinstance(ran.error, ApiError)
    assert not (here / "out").exists()


def test_refuses_a_non_empty_directory_before_any_request(api, here):
    (here / "busy").mkdir()
    (here / "busy" / "keep.txt").write_text("mine")
    ran = mocked(f"scaffold {fx.PREDICTION_ID} busy")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "not empty" in ran.error.message
    assert api.calls.call_count == 0
    assert [p.name for p in (here / "busy").iterdir()] == ["keep.txt"]


def test_an_existing_empty_directory_is_fine(api, here):
    (here / "empty").mkdir()
    api.get(f"/predictions/{fx.PREDICTION_ID}").respond(200, json=fx.prediction())
    assert mocked(f"scaffold {fx.PREDICTION_ID} empty --template python").code == 0
    assert (here / "empty" / "main.py").exists()


def test_refuses_when_the_default_directory_is_taken(api, here):
    (here / "sdxl").mkdir()
    (here / "sdxl" / "x").write_text("")
    api.get(f"/predictions/{fx.PREDICTION_ID}").respond(200, json=fx.prediction())
    ran = mocked(f"scaffold {fx.PREDICTION_ID}")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert [p.name for p in (here / "sdxl").iterdir()] == ["x"]


@pytest.mark.parametrize(
    "text",
    [
        "https://replicate.com/p/abc123",
        "https://replicate.com/p/abc123/",
        "https://replicate.com/p/abc123?tab=api",
        "https://api.replicate.com/v1/predictions/abc123",
        "abc123",
    ],
)
def test_prediction_ids_from_urls(text):
    assert sc.prediction_id(text) == "abc123"


@pytest.mark.parametrize("text", ["https://replicate.com/stability-ai/sdxl", "../etc", "a b", ""])
def test_bad_prediction_references_are_usage_errors(api, here, text):
    ran = mocked(f"scaffold '{text}'")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert api.calls.call_count == 0
    assert list(here.iterdir()) == []


def test_odd_model_names_from_the_api_fall_back_to_the_placeholder():
    plan = sc.plan_from({"model": "../../etc/passwd", "version": "x;rm", "input": {"a": 1}}, "pid")
    assert plan.ref == sc.PLACEHOLDER_MODEL and plan.input == {"a": 1}


def test_files_are_written_atomically(tmp_path, monkeypatch):
    target = tmp_path / "proj"
    target.mkdir()
    (target / "main.py").write_text("old")
    import rshell.atomic as atomic

    real_replace = atomic.os.replace

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", failing_replace)
    with pytest.raises(OSError):
        sc.write_text(target / "main.py", "new content")
    assert (target / "main.py").read_text() == "old"  # never half written
    assert [p.name for p in target.iterdir()] == ["main.py"]  # no temporary left behind
    monkeypatch.setattr(atomic.os, "replace", real_replace)
    sc.write_text(target / "main.py", "new content")
    assert (target / "main.py").read_text() == "new content"


def test_dry_run_writes_nothing(api, here):
    api.get(f"/predictions/{fx.PREDICTION_ID}").respond(200, json=fx.prediction())
    ran = mocked(f"scaffold {fx.PREDICTION_ID} --template python", dry_run=True)
    assert ran.stdout.startswith("would write python project sdxl/")
    assert list(here.iterdir()) == []


def test_every_template_slot_is_known():
    """A typo in a template would otherwise ship as literal `{{name}}` text."""
    plan = sc.Plan("pid", "a/b", "v1", {"k": "v"})
    for template in sc.TEMPLATES:
        for name, content in sc.render(template, plan, "proj").items():
            assert "{{" not in content, f"{template}/{name} has an unfilled slot"


def test_the_python_project_really_runs_against_the_local_sandbox(here):
    """End to end: a prediction on the sandbox, scaffolded, then run by the official client."""
    import asyncio
    import os
    import sys

    from rshell.client.api import ReplicateClient
    from rshell.sandbox.server import start

    with start() as sandbox:

        async def predict() -> str:
            async with ReplicateClient(sandbox.token, sandbox.url) as client:
                made = await client.predictions_create({"text": "hi", "times": 2}, model="rshell/echo", wait=True)
                return made.id

        pid = asyncio.run(predict())
        assert rsh(f"scaffold {pid} proj --template python", api=(sandbox.url, sandbox.token)).code == 0
        source = (here / "proj" / "main.py").read_text()
        assert sandbox.token not in all_text(here / "proj")
        env = {**os.environ, "REPLICATE_API_TOKEN": sandbox.token, "REPLICATE_BASE_URL": sandbox.url}
        ran = subprocess.run(
            [sys.executable, "main.py"], cwd=here / "proj", env=env, capture_output=True, text=True, timeout=60
        )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "hi hi"
    assert python_constants(source)["INPUT"]["text"] == "hi"
