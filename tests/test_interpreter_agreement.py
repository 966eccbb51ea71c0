"""Completion and execution read a line by the same rules (issue 10).

Each parser rule that completion mirrors (the separator, user aliases, the
`replicate` prefix, command aliases, flags with values in every spelling and a value
still pending, `--`, many-valued arguments, `NAME =`) gets one test that
asks both: what completion thinks is at the cursor, and what running the finished
line does against the live sandbox.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rsh import rsh

from rshell.commands import catalog
from rshell.commands.arguments import parse_args
from rshell.completion import context
from rshell.completion.cache import CompletionCache
from rshell.completion.engine import CompletionEngine
from rshell.errors import RshellError
from rshell.session.state import Session


def _api(sandbox: Any) -> tuple[str, str]:
    return sandbox.url, sandbox.token


def _want(line: str, session: Session) -> Any:
    (want,) = context.analyse(line, session)
    return want


def _echoed(outcome: Any) -> str:
    assert outcome.code == 0, outcome.stderr
    return str(outcome.json["output"])


def test_a_pinned_model_is_not_an_input_with_a_colon_separator(sandbox: Any) -> None:
    session = Session()
    version = rsh("model show rshell/pixels", api=_api(sandbox)).json["latest_version"]["id"]
    want = _want(f"run --separator : rshell/pixels:{version} pro", session)
    assert (want.kind, want.site.model, want.site.separator) == (context.INPUT_KEY, f"rshell/pixels:{version}", ":")
    ran = rsh(f"run --separator : rshell/pixels:{version} prompt:hello", session=session, api=_api(sandbox))
    assert ran.code == 0, ran.stderr
    assert ran.json["input"]["prompt"] == "hello"


def test_tolerant_and_strict_parses_split_the_same_words() -> None:
    command = catalog.BY_PATH[("prediction", "create")]
    words = ["--separator", ":", "a/b:abc123", "prompt:hi", "n:2"]
    strict = parse_args(command, words)
    tolerant = parse_args(command, words, tolerant=True)
    assert (strict.model, strict.inputs) == ("a/b:abc123", ["prompt:hi", "n:2"])
    assert (tolerant.positionals, tolerant.inputs, tolerant.keys) == (["a/b:abc123"], strict.inputs, {"prompt", "n"})


def test_a_user_alias_after_replicate(sandbox: Any) -> None:
    session = Session(aliases={"e": "run rshell/echo"})
    want = _want("replicate e te", session)
    assert (want.kind, want.site.model) == (context.INPUT_KEY, "rshell/echo")
    assert "hi there" in _echoed(rsh("replicate e text='hi there'", session=session, api=_api(sandbox)))


def test_an_alias_that_says_replicate(sandbox: Any) -> None:
    session = Session(aliases={"e": "replicate run rshell/echo"})
    want = _want("e te", session)
    assert (want.kind, want.site.model) == (context.INPUT_KEY, "rshell/echo")
    assert "yo" in _echoed(rsh("e text=yo", session=session, api=_api(sandbox)))


@pytest.mark.parametrize("spelling", ["p new", "prediction create", "run", "replicate run", "model run"])
def test_command_aliases(spelling: str, sandbox: Any) -> None:
    session = Session()
    want = _want(f"{spelling} rshell/echo te", session)
    assert want.site.command is not None and want.site.command.path == ("prediction", "create")
    assert (want.kind, want.site.model) == (context.INPUT_KEY, "rshell/echo")
    assert "ok" in _echoed(rsh(f"{spelling} rshell/echo text=ok", session=session, api=_api(sandbox)))


def test_a_number_after_wait_is_its_value_not_the_model(sandbox: Any) -> None:
    session = Session()
    want = _want("run --wait 5 rshell/echo te", session)
    assert (want.kind, want.site.model) == (context.INPUT_KEY, "rshell/echo")
    assert "five" in _echoed(rsh("run --wait 5 rshell/echo text=five", session=session, api=_api(sandbox)))


def test_a_flag_waiting_for_its_value() -> None:
    session = Session()
    want = _want("run rshell/echo --file-encoding ", session)
    assert want.kind == context.FLAG_VALUE and want.flag is not None and want.flag.name == "--file-encoding"
    # and the parser refuses the line ending there: the value is what goes next
    bad = rsh("run rshell/echo --file-encoding")
    assert (bad.code, "--file-encoding needs a value" in bad.stderr) == (2, True)
    given = _want("run rshell/echo --file-encoding data te", session)
    assert (given.kind, given.site.model) == (context.INPUT_KEY, "rshell/echo")


@pytest.mark.parametrize("binding", ["img = ", "img= "])
def test_a_binding_is_not_the_command(binding: str, sandbox: Any) -> None:
    session = Session(aliases={"e": "run rshell/echo"})
    want = _want(f"{binding}replicate e te", session)
    assert (want.kind, want.site.model) == (context.INPUT_KEY, "rshell/echo")
    ran = rsh(f"{binding}replicate e text=bound", session=session, api=_api(sandbox))
    assert ran.code == 0, ran.stderr
    assert "bound" in str(session.variables["img"]["output"])


def test_runs_in_flight_are_ids_not_model_names() -> None:
    session = Session(in_flight={"abc123": "prediction", "def456": "training"})
    engine = CompletionEngine(CompletionCache(), session)
    assert "prediction" not in [c.text for c in engine.complete("run ")]
    assert [c.text for c in engine.complete("prediction show ")] == ["abc123"]
    assert [c.text for c in engine.complete("training show ")] == ["def456"]


def test_save_reads_the_command_through_aliases(tmp_path: Any) -> None:
    session = Session(aliases={"h": "help"})
    assert rsh("h; replicate vars; alias x='run a/b'", session=session).code == 0
    assert [s for s in session.statements if not s.startswith("alias")] == []


@pytest.mark.parametrize(("option", "values"), [("stream", ["auto", "on", "off"]), ("editing_mode", ["emacs", "vi"])])
def test_set_offers_every_choice_set_accepts(option: str, values: list[str]) -> None:
    session = Session()
    engine = CompletionEngine(CompletionCache(), session)
    offered = [c.text for c in engine.complete(f"set {option} ")]
    assert sorted(offered) == sorted(values)
    for value in offered:
        assert rsh(f"set {option} {value}", session=session).code == 0
        assert session.options[option] == value
    refused = rsh(f"set {option} nonsense", session=session)
    assert refused.code == 2 and all(v in refused.stderr for v in values)


def test_a_flag_from_an_option_offers_and_takes_its_choices() -> None:
    session = Session()
    want = _want("run a/b --file-encoding ", session)
    assert want.flag is not None and want.flag.choices == ("url", "data")
    engine = CompletionEngine(CompletionCache(), session)
    assert sorted(c.text for c in engine.complete("set file_encoding ")) == sorted(want.flag.choices)


# what the line runs decides what completes ------------------------------------------------


def _settled(sandbox: Any, session: Session, *lines: str) -> list[list[str]]:
    """Complete each line with a real refresher against the sandbox: ask, let the fetches
    land, ask again (what the REPL's menu shows after its redraw)."""
    from rshell.client.api import ReplicateClient
    from rshell.completion.refresher import Refresher

    async def go() -> list[list[str]]:
        client = ReplicateClient(sandbox.token, sandbox.url, max_retries=0)

        async def get_client() -> ReplicateClient:
            return client

        refresher = Refresher(get_client, CompletionCache())
        engine = CompletionEngine(refresher.cache, session, refresher)
        found = []
        try:
            for line in lines:
                for _ in range(3):  # a deployment, then its version's schema
                    engine.complete(line)
                    assert await refresher.drain(timeout=30)
                found.append([c.text for c in engine.complete(line)])
        finally:
            await client.aclose()
        return found

    return asyncio.run(go())


def test_a_deployment_offers_its_models_inputs(sandbox: Any) -> None:
    made = rsh("deployments create dep --model rshell/pixels --hardware cpu", api=_api(sandbox))
    assert made.code == 0, made.stderr
    name = f"{made.json['owner']}/dep"
    session = Session()
    (keys,) = _settled(sandbox, session, f"run --deployment {name} ")
    assert keys[:2] == ["prompt=", "width="]
    assert "rshell/pixels" not in keys  # no model goes here: the deployment runs
    ran = rsh(f"run --deployment {name} {keys[0]}fox", session=session, api=_api(sandbox))
    assert ran.code == 0, ran.stderr
    assert ran.json["input"]["prompt"] == "fox"


def test_unalias_offers_the_aliases() -> None:
    session = Session(aliases={"sdxl": "run stability-ai/sdxl", "e": "run rshell/echo"})
    engine = CompletionEngine(CompletionCache(), session)
    offered = [c.text for c in engine.complete("unalias ")]
    assert sorted(offered) == ["e", "sdxl"]
    assert rsh(f"unalias {offered[0]}", session=session).code == 0
    assert [c.text for c in engine.complete("unalias ")] == offered[1:]


def test_a_pipe_stage_offers_paths_into_the_piped_run(sandbox: Any) -> None:
    session = Session()
    found, outputs = _settled(
        sandbox, session, "run rshell/pixels prompt=a | show {{.", "run rshell/pixels | show {{.outp"
    )
    assert {".output", ".urls", ".input", ".status"} <= set(found)
    assert outputs == [".output"]
    (inner,) = _settled(sandbox, session, "run rshell/pixels prompt=a | show {{.input.")
    assert set(inner) >= {".input.prompt", ".input.width"}
    ran = rsh("run rshell/pixels prompt=a | run rshell/echo text={{.input.prompt}}", session=session, api=_api(sandbox))
    assert ran.code == 0, ran.stderr
    assert ran.json["input"]["text"] == "a"


def test_a_pipe_from_no_run_offers_the_last_result() -> None:
    session = Session()
    session.bind(None, {"shown": {"deep": 1}})
    engine = CompletionEngine(CompletionCache(), session)
    assert [c.text for c in engine.complete("vars | show {{.sh")] == [".shown"]


def test_the_highlighter_names_the_command_the_executor_runs() -> None:
    from rshell.repl.lexer import COMMAND, SUBCOMMAND, for_session

    aliases = {"e": "run rshell/echo", "pl": "prediction list"}

    def kinds(text: str) -> list[tuple[object, str]]:
        lexer = for_session(lambda: aliases)()
        return [(t, v) for t, v in lexer.get_tokens(text) if v.strip()]

    assert kinds("replicate e text=hi")[:2] == [(COMMAND, "replicate"), (COMMAND, "e")]
    assert kinds("x = pl --limit 1")[2] == (COMMAND, "pl")
    assert kinds("run rshell/echo | pl")[-1] == (COMMAND, "pl")
    three = [(COMMAND, "model"), (SUBCOMMAND, "versions"), (SUBCOMMAND, "delete")]
    assert kinds("model versions delete a/b:v1")[:3] == three
    # a word the resolver does not take as a command is plain text, as running it fails
    assert kinds("nosuch e")[0][0] not in (COMMAND, SUBCOMMAND)
    assert rsh("nosuch e").code == 2


@pytest.mark.parametrize(
    ("line", "binds"), [("x= vars", True), ("x = vars", True), ("x =vars", False), ("a=b vars", False)]
)
def test_the_highlighter_sees_a_binding_where_the_parser_does(line: str, binds: bool) -> None:
    from pygments.token import Name

    from rshell.grammar.parser import parse_script
    from rshell.repl.lexer import RshellLexer

    first = next(t for t, v in RshellLexer().get_tokens(line) if v.strip())
    assert (first is Name.Variable) == binds
    assert (parse_script(line)[0].target is not None) == binds


def test_template_paths_complete_as_templates_read_them() -> None:
    session = Session(variables={"img": {"1a": {"x": 7}, "ok": [{"y": 8}]}})
    engine = CompletionEngine(CompletionCache(), session)
    assert [c.text for c in engine.complete('{{img["1a"].')] == ['img["1a"].x']
    assert [c.text for c in engine.complete("{{img.ok[0].")] == ["img.ok[0].y"]
    assert "img.1a.x" not in [c.text for c in engine.complete("{{img.1a.")]  # `.1a` is no field name
    for path, value in (('img["1a"].x', "7"), ("img.ok[0].y", "8")):
        assert rsh(f"set separator {{{{{path}}}}}", session=session).code == 0
        assert session.options["separator"] == value
    assert rsh("set separator {{img.1a.x}}", session=session).code == 2


def test_save_writes_what_replays_however_it_was_spelled(tmp_path: Any) -> None:
    session = Session(aliases={"h": "help"})
    # an older session kept alias lines among its statements; the alias table is written once
    session.statements += ["alias x='run a/b'", "replicate alias y='run c/d'", "unalias x"]
    assert rsh("h; replicate vars; alias z='run e/f'", session=session).code == 0
    target = tmp_path / "s.rsh"
    assert rsh(f"save {target}", session=session).code == 0
    lines = target.read_text().splitlines()[1:]
    assert lines == ["alias h=help", "alias z='run e/f'"]


def test_a_session_file_sets_only_values_set_accepts(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from rshell.session import store

    monkeypatch.setenv("RSHELL_DATA_DIR", str(tmp_path))
    (tmp_path / "sessions").mkdir()
    stored = {"stream": "sometimes", "json": "yes", "editing_mode": "vi", "separator": 5, "file_encoding": "data"}
    (tmp_path / "sessions" / "w.json").write_text(json.dumps({"options": stored}))
    options = store.load_session("w").options
    kept = {"separator": "=", "json": False, "stream": "auto", "file_encoding": "data", "editing_mode": "vi"}
    assert {k: options[k] for k in kept} == kept
    session = Session()
    for name, value in options.items():  # and each kept or default value is one `set` takes
        assert (
            rsh(f"set {name} {'on' if value is True else 'off' if value is False else value}", session=session).code
            == 0
        )


def test_help_reads_a_user_alias_as_the_executor_runs_it() -> None:
    session = Session(aliases={"e": "replicate run rshell/echo", "loop": "loop"})
    shown = rsh("help e", session=session, json_mode=False)
    assert shown.code == 0, shown.stderr
    assert shown.stdout.startswith("e: alias for `replicate run rshell/echo`")
    assert "usage: prediction create" in shown.stdout
    # an alias naming no command fails in help as it does when run
    assert rsh("help loop", session=session).code == rsh("loop", session=session).code == 2


_VOCAB = ["--separator", ":", "=", "-w", "--wait", "30", "--file-encoding", "bogus", "a/b:v", "k=v", "k:v", "--", "-h"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(catalog.COMMANDS), st.lists(st.sampled_from(_VOCAB), max_size=8))
def test_the_tolerant_parse_never_raises_and_agrees_when_strict_accepts(command: Any, words: list[str]) -> None:
    tolerant = parse_args(command, words, tolerant=True)
    try:
        strict = parse_args(command, words)
    except RshellError:
        return
    if not strict.values.get("help"):
        assert (tolerant.inputs, tolerant.separator) == (strict.inputs, strict.separator)
        assert tolerant.values == strict.values


def test_every_id_of_a_many_valued_argument(sandbox: Any) -> None:
    """`prediction wait ID ID …`: the last positional takes every word; completion
    keeps offering ids after the first, and the executor waits on all of them."""
    session = Session()
    made = [rsh(f"run rshell/echo text={word}", session=session, api=_api(sandbox)).json["id"] for word in ("a", "b")]
    for typed in (f"prediction wait {made[0]} ", f"prediction wait {made[0]} {made[1][:3]}"):
        want = _want(typed, session)
        assert (want.kind, want.source) == (context.SOURCE, "prediction")
    ran = rsh(f"prediction wait {made[0]} {made[1]}", session=session, api=_api(sandbox))
    assert ran.code == 0, ran.stderr
    assert [p["id"] for p in ran.json] == made


@pytest.mark.parametrize("flag", ["--file-encoding=data", "--file-encoding data", "-w 5", "--wait=5"])
def test_a_flag_given_with_its_value_in_any_spelling(flag: str, sandbox: Any) -> None:
    """`--name=value`, `--name value`, a short name and an optional value: the value is
    never read as the model, by completion or by the executor."""
    session = Session()
    want = _want(f"run {flag} rshell/echo te", session)
    assert (want.kind, want.site.model) == (context.INPUT_KEY, "rshell/echo")
    assert "spelt" in _echoed(rsh(f"run {flag} rshell/echo text=spelt", session=session, api=_api(sandbox)))


@pytest.mark.parametrize(
    ("typed", "flag", "refusal"),
    [
        ("run rshell/echo --file-encoding=", "--file-encoding", "option 'file_encoding' is one of url, data; got ''"),
        ("train -d ", "--destination", "-d needs a value"),
    ],
)
def test_a_flag_value_pending_in_any_spelling(typed: str, flag: str, refusal: str) -> None:
    """`--name=` and a short name wait for a value; the parser refuses the line ending there."""
    want = _want(typed, Session())
    assert want.kind == context.FLAG_VALUE and want.flag is not None and want.flag.name == flag
    bad = rsh(typed.rstrip())
    assert (bad.code, bad.error.message) == (2, refusal)


def test_words_after_a_double_dash_are_inputs_not_flags(sandbox: Any) -> None:
    session = Session()
    want = _want("run rshell/echo -- te", session)
    assert (want.kind, want.site.model) == (context.INPUT_KEY, "rshell/echo")
    assert "dashed" in _echoed(rsh("run rshell/echo -- text=dashed", session=session, api=_api(sandbox)))
