"""`scaffold <prediction-id-or-url> [dir] --template node|python`: a starter project.

The project re-runs a prediction's model with its input, using the official client
of the chosen language. Templates ship as package data (`scaffold_templates/`).
It works offline: when the prediction can't be fetched, the project is written
with a placeholder model. The token is never written: the code reads
REPLICATE_API_TOKEN from the environment and `.env.example` leaves it empty.
"""

from __future__ import annotations

import json
import pprint
import re
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import msgspec

from rshell.atomic import write_text
from rshell.commands.modelref import NAME_PART
from rshell.errors import AuthError, NetworkError, UsageError

if TYPE_CHECKING:
    from rshell.commands.arguments import ParsedArgs
    from rshell.commands.context import Context, Result

TEMPLATES = ("node", "python")
PLACEHOLDER_MODEL = "OWNER/MODEL"
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}\Z")
_MODEL = re.compile(rf"{NAME_PART}/{NAME_PART}\Z")
_VERSION = re.compile(r"[A-Za-z0-9]+\Z")
_SLOT = re.compile(r"\{\{(\w+)\}\}")
_URL_SEGMENTS = ("p", "predictions")  # replicate.com/p/<id>, api…/v1/predictions/<id>


class Plan(msgspec.Struct):
    """What the project runs: the model reference and input, or a placeholder."""

    prediction: str
    model: str | None = None  # owner/name, None when unknown (offline)
    version: str | None = None
    input: dict[str, Any] = msgspec.field(default_factory=dict)

    @property
    def ref(self) -> str:
        if self.model is None:
            return PLACEHOLDER_MODEL
        return f"{self.model}:{self.version}" if self.version else self.model


def prediction_id(text: str) -> str:
    """The id in `text`: a bare id, or a prediction URL (replicate.com/p/<id>)."""
    text = (text or "").strip()
    if "://" in text:
        segments = [s for s in urlsplit(text).path.split("/") if s]
        for i, segment in enumerate(segments[:-1]):
            if segment in _URL_SEGMENTS and _ID.match(segments[i + 1]):
                return segments[i + 1]
        raise UsageError(f"no prediction id in '{text}'", "give an id, or a URL like https://replicate.com/p/<id>")
    if not _ID.match(text):
        raise UsageError(f"'{text}' is not a prediction id", "give an id, or a URL like https://replicate.com/p/<id>")
    return text


def plan_from(prediction: dict[str, Any], pid: str) -> Plan:
    """Model, version and input of a fetched prediction; odd values fall back to the placeholder."""
    model = prediction.get("model")
    version = prediction.get("version")
    model = model if isinstance(model, str) and _MODEL.match(model) else None
    version = version if isinstance(version, str) and _VERSION.match(version) and version != "hidden" else None
    raw_input = prediction.get("input")
    return Plan(pid, model, version if model else None, raw_input if isinstance(raw_input, dict) else {})


async def fetch_plan(ctx: Context, pid: str) -> Plan:
    """The prediction's plan, or a placeholder (said on stderr) when the API can't be reached."""
    from rshell.rendering.output import as_json

    try:
        client = await ctx.client()
        prediction = as_json(await client.predictions_get(pid))
    except (NetworkError, AuthError) as exc:
        ctx.out.info(f"could not fetch prediction {pid} ({exc.message}); writing a placeholder model to fill in")
        return Plan(pid)
    return plan_from(prediction, pid)


# rendering the templates -----------------------------------------------------------


def _js(value: Any, indent: int | None = 2) -> str:
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _py(value: Any) -> str:
    return pprint.pformat(value, sort_dicts=False, width=88)


def slots(plan: Plan, project: str) -> dict[str, str]:
    """Every `{{name}}` a template may use, each already encoded for its language."""
    todo = "" if plan.model else "the prediction could not be fetched: replace OWNER/MODEL and the input"
    return {
        "prediction": plan.prediction,
        "model": plan.ref,
        "title": project,
        "name_json": _js(npm_name(project)),
        "description_json": _js(f"Runs {plan.ref} on Replicate"),
        "model_js": _js(plan.ref),
        "input_js": _js(plan.input),
        "model_py": _py(plan.ref),
        "input_py": _py(plan.input),
        "todo_js": f"// TODO: {todo}." if todo else "",
        "todo_py": f"# TODO: {todo}." if todo else "",
        "todo_text": f"\n**TODO:** {todo}.\n" if todo else "",
    }


def npm_name(project: str) -> str:
    """A valid npm package name from the directory's name."""
    name = re.sub(r"[^a-z0-9._~-]+", "-", project.lower()).strip("-._") or "replicate-starter"
    return name[:214]


def fill(text: str, values: dict[str, str]) -> str:
    """One pass over `{{name}}` slots, so text from the API is never expanded again."""
    return _SLOT.sub(lambda m: values[m.group(1)] if m.group(1) in values else m.group(0), text)


def output_name(template_name: str) -> str:
    """`dot-env.example.tmpl` → `.env.example` (dotfiles don't travel well as package data)."""
    name = template_name.removesuffix(".tmpl")
    return "." + name.removeprefix("dot-") if name.startswith("dot-") else name


def render(template: str, plan: Plan, project: str) -> dict[str, str]:
    """The project's files (name → content) from the built-in template."""
    if template not in TEMPLATES:
        raise UsageError(f"unknown template '{template}'", f"valid: {', '.join(TEMPLATES)}")
    values = slots(plan, project)
    folder = resources.files("rshell.commands").joinpath("scaffold_templates", template)
    files = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".tmpl"):
            files[output_name(entry.name)] = fill(entry.read_text(encoding="utf-8"), values)
    return files


# writing -------------------------------------------------------------------------


def check_target(target: Path) -> None:
    """Refuse an existing non-empty directory, or a file where the directory should go."""
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()):
        raise UsageError(f"{target} is not empty; not writing into it", "name a new directory: scaffold ID DIR")


def write_project(target: Path, files: dict[str, str]) -> list[Path]:
    check_target(target)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        write_text(target / name, content)
        written.append(target / name)
    return written


async def scaffold(ctx: Context, args: ParsedArgs) -> Result:
    """Fetch the prediction (if reachable) and write the starter project."""
    from rshell.commands.context import Result
    from rshell.commands.runref import run_id

    pid = prediction_id(await run_id(ctx, args.prediction, "prediction"))
    template = args.get("template", "node")
    given = Path(args.dir).expanduser() if args.get("dir") else None
    if given is not None:
        check_target(given)
    plan = await fetch_plan(ctx, pid)
    target = given or Path(plan.model.split("/")[1] if plan.model else pid)
    files = render(template, plan, target.resolve().name)
    data = {
        "directory": str(target),
        "template": template,
        "prediction": pid,
        "model": plan.model,
        "version": plan.version,
        "files": sorted(files),
    }
    if ctx.dry_run:
        return Result(data=data, text=f"would write {template} project {target}/: {', '.join(sorted(files))}")
    write_project(target, files)
    lines = [f"wrote {template} project {target}/ running {plan.ref}: {', '.join(sorted(files))}"]
    lines.append(_next_steps(template, target))
    return Result(data=data, text="\n".join(lines))


def _next_steps(template: str, target: Path) -> str:
    if template == "node":
        return f"next: cd {target} && npm install && REPLICATE_API_TOKEN=... npm start"
    return f"next: cd {target} && pip install -r requirements.txt && REPLICATE_API_TOKEN=... python main.py"
