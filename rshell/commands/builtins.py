"""Shell builtins: they manage the session and never talk to the API themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rshell.atomic import write_text
from rshell.client.fields import TERMINAL_STATUSES, is_run_list, json_run_kind
from rshell.client.urls import shown_url
from rshell.commands.arguments import ParsedArgs
from rshell.commands.context import Context, Result
from rshell.errors import RshellError, UsageError
from rshell.grammar.lexer import is_name
from rshell.session.state import OPTIONS, shown


async def help_(ctx: Context, args: ParsedArgs) -> Result:
    from rshell.commands.help import help_for, is_topic

    words = [w for w in (args.get("command"), args.get("sub"), args.get("subsub")) if w]
    text = help_for(words, ctx.session.aliases)
    if is_topic(words) and not ctx.session.aliases.get(words[0]):  # grammar.md's Markdown, laid out like a README
        from rshell.rendering.markdown import render_markdown
        from rshell.rendering.tables import terminal_width

        return Result(text=render_markdown(text, terminal_width() if ctx.out.stdout_tty else 100), bind=False)
    model = args.values.get("model")
    if isinstance(model, str):
        text += "\n\n" + await _model_inputs(ctx, model)
    if ctx.out.stdout_tty:  # wrapped to the terminal; a pipe or file keeps one line per entry
        from rshell.commands.help import fitted
        from rshell.rendering.tables import terminal_width

        text = fitted(text, terminal_width())
    return Result(text=text, bind=False)


async def _model_inputs(ctx: Context, model: str) -> str:
    """`run MODEL --help`: the model's inputs and output, as `model schema` shows them;
    the help stands without them when the schema cannot be had."""
    from rshell.commands.modelref import fetch_schema, parse_model_ref
    from rshell.rendering.schema import schema_text

    try:
        ref = parse_model_ref(model)
        schema, _ = await fetch_schema(await ctx.client(), ref, "describe", typos=False)  # help asks once
    except RshellError as error:
        return f"(the inputs of {model} are not shown: {error.message})"
    if not schema:
        return f"(the inputs of {model} are not shown: it has no version with a schema)"
    return schema_text(schema, str(ref.model or model))


async def vars_(ctx: Context, args: ParsedArgs) -> Result:
    """Name, kind, status and a one-line summary of every named result."""
    variables = ctx.session.variables
    if not variables:
        return Result(data={}, text="no named results yet (bind one: `img = run owner/model prompt=…`)", bind=False)
    from rshell.rendering.tables import table

    rows = [(name, *describe(value)) for name, value in variables.items()]
    shown = [(n, k, s, f"{summary}{_snapshot_tail(n, variables[n])}".strip()) for n, k, s, summary in rows]
    text = table(("name", "kind", "status", "summary"), shown, flex=3, lines=None, titled=False)
    return Result(data={n: k for n, k, _, _ in rows}, text=text, bind=False)


def snapshot_note(name: str, value: Any) -> str | None:
    """A bound run that had not finished is a copy from back then, not a live view:
    "(snapshot, status starting — `wait bg`)"; None for anything else."""

    if json_run_kind(value) is None or value.get("status") in TERMINAL_STATUSES:
        return None
    return f"(snapshot, status {value.get('status')} — `wait {name}`)"


def _snapshot_tail(name: str, value: Any) -> str:
    note = snapshot_note(name, value)
    return f"  {note}" if note else ""


def describe(value: Any) -> tuple[str, str, str]:
    """(kind, status, one-line summary) of a bound result, from its JSON shape."""
    if isinstance(value, dict):
        status = str(value.get("status") or "")
        run = json_run_kind(value)
        if run is not None:
            kind = run
        elif "latest_version" in value or ("owner" in value and "visibility" in value):
            kind = "model"
        elif "current_release" in value:
            kind = "deployment"
        elif "openapi_schema" in value:
            kind = "version"
        else:
            kind = "object"
        shown = value.get("output", value.get("id", value.get("name", value)))
        summary = "" if shown is None else _one_line(_readable(shown))  # a run with no output yet: no `null`
        return kind, status, summary
    if isinstance(value, list):
        if is_run_list(value):
            return "batch", "", batch_summary(value)  # what `NAME = batch …` binds
        return "list", "", f"{len(value)} items"
    return type(value).__name__, "", _one_line(value)


def batch_summary(rows: list[dict[str, Any]]) -> str:
    """`16 predictions: 15 succeeded, 1 failed`."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[str(row.get("status"))] = counts.get(str(row.get("status")), 0) + 1
    parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    return f"{len(rows)} predictions: {parts}"


def _readable(output: Any) -> Any:
    """Streamed text (a list of tokens) reads as the text; files as how many and the first."""
    from rshell.downloads import is_file_url

    if isinstance(output, list) and output and all(isinstance(item, str) for item in output):
        if all(is_file_url(item) for item in output):
            return f"{len(output)} file{'s' if len(output) > 1 else ''}: {output[0]}"
        return "".join(output)
    return output


def _one_line(value: Any, width: int = 60) -> str:
    import json

    from rshell.text import one_line

    return one_line(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False), width)


async def show(ctx: Context, args: ParsedArgs) -> Result:
    """`show img.output[0]` prints a value; text that is no path (say, what
    `show {{img.output[0]}}` expanded to) is printed as it is, like echo."""
    from rshell.errors import ParseError
    from rshell.grammar.templates import parse_ref, resolve

    expr = args.expr.strip()
    try:
        ref = parse_ref(expr)
    except ParseError:
        return Result(data=expr, text=expr, bind=False)

    def lookup(name: str | None) -> Any:
        if name is None:
            if ctx.piped is None:
                raise UsageError("nothing was piped into `show`", "name a result: show x.output")
            return ctx.piped
        return ctx.session.lookup(name)

    value = resolve(ref, lookup, ctx.session.joins)
    if ref.name is not None and ref.name != "_":
        note = snapshot_note(ref.name, ctx.session.lookup(ref.name))
        if note:
            ctx.out.info(note)
    text = value if isinstance(value, str) else "null" if value is None else None  # JSON's word, not a blank line
    return Result(data=value, text=text, bind=False)


async def unset(ctx: Context, args: ParsedArgs) -> Result:
    ctx.session.unset(args.name)
    return Result(text=f"unset {args.name}", bind=False)


async def history(ctx: Context, args: ParsedArgs) -> Result:
    from rshell.session.store import read_history

    lines = read_history()
    first = 0
    if args.count is not None:
        if not args.count.isdigit():
            raise UsageError(f"history takes a number of lines, not {args.count!r}", "e.g. `history 20`")
        first = max(len(lines) - int(args.count), 0)
    numbered = list(enumerate(lines, 1))[first:]
    made = _results_of(lines, ctx.session.numbered.texts)
    listed = "\n".join(f"{i:>5}  {line}{made.get(i, '')}" for i, line in numbered)
    text = listed or ("no history yet" if not lines else "")
    return Result(data=lines[first:], text=text, bind=False)


def _results_of(lines: list[str], texts: dict[int, str]) -> dict[int, str]:
    """Which history line (1-based) made which numbered results, `  → _3 _4`: this
    session's statements are its newest lines, matched newest first."""
    marks: dict[int, list[str]] = {}
    at = len(lines)
    for number in sorted(texts, reverse=True):
        text = texts[number].strip()
        while at >= 1 and text not in lines[at - 1]:
            at -= 1
        if at < 1:
            break
        marks.setdefault(at, []).insert(0, f"_{number}")
    return {line: "  → " + " ".join(names) for line, names in marks.items()}


def _is_rerun(line: str) -> bool:
    words = line.split()
    return bool(words) and (words[0] == "rerun-line" or line.strip() == "!!")


async def rerun_line(ctx: Context, args: ParsedArgs) -> Result:
    """Run a line of `history` again (`!!`: the last one that was not itself a rerun)."""
    from rshell.session.store import read_history
    from rshell.text import one_line

    lines = read_history()
    given = args.get("number")
    if given is None:
        found = [(i, line) for i, line in enumerate(lines, 1) if not _is_rerun(line)]
        if not found:
            raise UsageError("no history line to run again yet")
        number, text = found[-1]
    else:
        if not str(given).isdigit() or not 1 <= int(given) <= len(lines):
            raise UsageError(f"no history line {given!r}", f"`history` numbers them 1 to {len(lines)}")
        number, text = int(given), lines[int(given) - 1]
        if _is_rerun(text):
            raise UsageError(f"history line {number} is itself a rerun", "name the line it ran")
    if ctx.run_script is None:
        raise UsageError("`rerun-line` is not available here")
    ctx.out.info(f"rerun-line {number}: {one_line(text)}")
    code = await ctx.run_script(text, source=f"history {number}")
    if code:
        stopped = RshellError(f"history line {number} failed")
        stopped.exit_code = code
        raise stopped
    return Result(bind=False)


async def source(ctx: Context, args: ParsedArgs) -> Result:
    from rshell.grammar.inputs import local_path

    path = local_path(args.file)
    text = _read_script(path)
    if ctx.run_script is None:
        raise UsageError("`source` is not available here")
    code = await ctx.run_script(text, source=str(path), folder=path.parent)
    if code:
        stopped = RshellError(f"{path}: stopped at the first error")
        stopped.exit_code = code  # as `rshell FILE` would exit: 2 for a usage or syntax error
        raise stopped
    return Result(bind=False)


def _read_script(path: Path) -> str:
    if not path.exists():
        raise UsageError(f"no such script: {path}")
    if path.is_dir():
        raise UsageError(f"{path} is a directory, not a script")
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None


async def save(ctx: Context, args: ParsedArgs) -> Result:
    """Write the session's successful statements as a script that replays them."""
    path = Path(args.file).expanduser()
    if path.is_dir():
        raise UsageError(f"{path} is a directory", "give a file name, e.g. save session.rsh")
    from rshell.commands.replay import masked, replayable
    from rshell.session.secrets import holds_secret

    secrets = session_secrets(ctx)
    lines = ["# rshell session script: replay with `rshell FILE` or `source FILE`"]
    lines += [
        f"alias {name}={_quote(text)}" for name, text in ctx.session.aliases.items() if not holds_secret(text, secrets)
    ]
    said = [masked(s) if holds_secret(s, secrets) else s for s in ctx.session.statements]
    moved = (Path.cwd().resolve(), path.parent.resolve())  # its @paths must start at its folder
    replay = replayable(said, ctx.session.aliases, ctx.session.options, moved)
    lines += replay.kept
    write_script(path, "\n".join(lines) + "\n")
    count = len(lines) - 1
    text = f"saved {count} statements to {path}"
    if replay.left_out:
        text += f"\nleft out {len(replay.left_out)}:" + "".join(f"\n  {s}  # {why}" for s, why in replay.left_out)
    data = {
        "path": str(path),
        "statements": count,
        "left_out": [{"statement": s, "why": w} for s, w in replay.left_out],
    }
    return Result(data=data, text=text, bind=False)


def session_secrets(ctx: Context) -> tuple[str, ...]:
    """The tokens this session uses (the entry point knows them), to keep out of files."""
    return ctx.env.secrets() if ctx.env.secrets is not None else ()


def _quote(text: str) -> str:
    from rshell.grammar.lexer import quote

    return quote(text)


def write_script(path: Path, text: str) -> None:
    """Write a script in one step; its directory must exist (we don't invent one)."""
    if not path.parent.is_dir():
        raise UsageError(f"no such directory: {path.parent}")
    try:
        write_text(path, text)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None


async def alias(ctx: Context, args: ParsedArgs) -> Result:
    """`alias` lists; `alias NAME=WORDS` defines (quote WORDS: alias x='run a/b')."""
    definition = args.get("definition")
    if not definition:
        aliases = ctx.session.aliases
        text = "\n".join(f"alias {n}={_quote(t)}" for n, t in aliases.items()) or "no aliases"
        return Result(data=dict(aliases), text=text, bind=False)
    name, eq, text = definition.partition("=")
    if not eq or not is_name(name) or not text.strip():
        raise UsageError(f"expected alias NAME='WORDS', got '{definition}'", "e.g. alias sdxl='run stability-ai/sdxl'")
    from rshell.grammar.aliases import check_alias_name

    check_alias_name(name)
    from rshell.session.secrets import holds_secret

    if holds_secret(text, session_secrets(ctx)):
        raise UsageError(
            f"alias {name} would hold the API token, which rshell never stores",
            "leave the token out; rshell sends it from REPLICATE_API_TOKEN or `rshell auth login`",
        )
    ctx.session.aliases[name] = text.strip()
    return Result(text=f"alias {name}={_quote(text.strip())}", bind=False)


async def unalias(ctx: Context, args: ParsedArgs) -> Result:
    if args.name not in ctx.session.aliases:
        raise UsageError(f"no alias named '{args.name}'", "`alias` lists them")
    del ctx.session.aliases[args.name]
    return Result(text=f"removed alias {args.name}", bind=False)


async def set_(ctx: Context, args: ParsedArgs) -> Result:
    option, value = args.get("option"), args.get("value")
    if option is None:
        options = ctx.session.options
        text = "\n".join(f"{k:<14} {shown(options.get(k))!s:<8} {o.help}" for k, o in OPTIONS.items())
        return Result(data=dict(options), text=text, bind=False)
    if value is None:
        raise UsageError(
            f"`set {option}` needs a value", f"{option}: {o.help if (o := OPTIONS.get(option)) else 'unknown option'}"
        )
    ctx.session.set_option(option, value)
    return Result(text=f"{option} = {shown(ctx.session.options[option])}", bind=False)


async def status(ctx: Context, args: ParsedArgs) -> Result:
    """Host, where the token comes from (never the token), session and activity."""
    session = ctx.session
    base_url = ctx.env.base_url
    data: dict[str, Any] = {
        "host": shown_url(base_url),
        "token": ctx.env.token_source or _token_source(base_url),
        "session": session.name,
        "variables": len(session.variables),
        "in_flight": list(session.in_flight),
        "last_status": session.last_status,
    }
    text = "\n".join(f"{k:<12} {_shown_field(v)}" for k, v in data.items())
    return Result(data=data, text=text, bind=False)


def _shown_field(value: Any) -> str:
    """A status field for a person: a list as its items, nothing as `-` (never Python's repr)."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    return "-" if value is None else str(value)


def _token_source(base_url: str) -> str:
    try:
        from rshell.session.credentials import token_source

        return token_source(base_url) or "not set"
    except Exception:
        return "unknown"


async def exit_(ctx: Context, args: ParsedArgs) -> Result:
    if ctx.env.request_exit is not None:
        ctx.env.request_exit()
    return Result(bind=False)


# The official CLI's `completion SHELL` (cobra's generated command): rshell's scripts.
COMPLETERS = {"bash": "completers/rshell.bash", "zsh": "completers/_rshell", "fish": "completers/rshell.fish"}


async def completion(ctx: Context, args: ParsedArgs) -> Result:
    """Print the completion script for a shell, e.g. `source <(rshell completion bash)`."""
    from rshell.commands.registry import unknown
    from rshell.project_files import read_project_file

    shell = str(args.get("shell") or "")
    if shell == "powershell":
        raise UsageError("rshell has no PowerShell completion script", "it has bash, zsh and fish: completion bash")
    if shell not in COMPLETERS:
        raise unknown("shell", shell, list(COMPLETERS))
    return Result(text=read_project_file(COMPLETERS[shell], f"`completion {shell}`"), bind=False)
