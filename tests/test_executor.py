"""The executor: statements, binding, templates, pipes, errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rsh import BASE, MOCKED, TOKEN, rsh

from rshell.session.state import Session

ACCOUNT = {"type": "user", "username": "alice", "name": "Alice", "github_url": "https://github.com/alice"}


class Run:
    """`rsh` against the shared respx fixture, one session kept across calls."""

    def __init__(self, json_mode: bool | None = False, piped: Any = None) -> None:
        self.session = Session()
        self.json_mode, self.piped = json_mode, piped
        self.out = self.err = ""

    def __call__(self, text: str, source: str = "-c", keep_going: bool = False) -> int:
        ran = rsh(
            text,
            session=self.session,
            api=MOCKED,
            json_mode=self.json_mode,
            source=source,
            keep_going=keep_going,
            piped=None if self.piped is None else (lambda: self.piped),
        )
        self.out, self.err = ran.stdout, ran.stderr
        return ran.code


@pytest.fixture
def me(api):
    """The API with `account current` answered."""
    api.get("/account").respond(200, json=ACCOUNT)
    return api


def test_assignment_binds_name_and_last(me) -> None:
    run = Run()
    assert run("me = account current; show me.username; show _.name") == 0
    assert run.session.variables["me"]["username"] == "alice"
    assert run.out.splitlines()[-2:] == ["alice", "Alice"]


def test_templates_and_dollar_shorthand_expand_in_values(me) -> None:
    run = Run()
    assert run("me = account current\nset separator {{me.username}}") == 0
    assert run.session.options["separator"] == "alice"
    assert run("set separator $me.name") == 0
    assert run.session.options["separator"] == "Alice"
    assert run("set separator '{{me.name}}'") == 0  # single quotes: nothing substituted
    assert run.session.options["separator"] == "{{me.name}}"


def test_aliases_expand_and_keep_single_quoted_text(me) -> None:
    run = Run()
    assert run("me = account current; alias x='show me.name'; x") == 0
    assert run.out.splitlines()[-1] == "Alice"
    assert run.session.aliases["x"] == "show me.name"


def test_pipe_gives_the_next_command_the_result(me) -> None:
    run = Run()
    assert run("account current | show .username") == 0
    assert run.out.splitlines()[-1] == "alice"


def test_pipe_to_a_system_command_gets_json_on_stdin(me, tmp_path: Path) -> None:
    target = tmp_path / "got.json"
    run = Run()
    assert run(f"account current | !cat > {target}") == 0
    assert json.loads(target.read_text())["username"] == "alice"


def test_failing_system_command_fails_the_statement() -> None:
    run = Run()
    assert run("!exit 3") == 1
    assert "exited with status 3" in run.err


def test_stdin_json_is_the_piped_context() -> None:
    run = Run(piped={"output": ["https://x/y.png"]})
    assert run("show {{.output[0]}}") == 0
    assert run.out.strip() == "https://x/y.png"


def test_dot_template_without_a_pipe_is_a_usage_error(api) -> None:
    run = Run()
    assert run("show {{.output[0]}}") == 2
    assert "nothing was piped in" in run.err or "nothing was piped" in run.err


def test_unknown_command_exits_2_and_sends_nothing(api) -> None:
    run = Run()
    assert run("acount current") == 2
    assert "unknown command 'acount'" in run.err and "did you mean 'account'?" in run.err
    assert not api.calls


def test_undefined_variable_names_the_close_one(me) -> None:
    run = Run()
    assert run("img = account current") == 0
    assert run("show im.username") == 2  # found before anything is sent
    assert "undefined variable 'im'" in run.err and "did you mean 'img'?" in run.err


def test_script_errors_carry_file_and_line_and_stop(api) -> None:
    run = Run()
    code = run("account current\nbogus\naccount current\n", source="demo.rsh")
    assert code == 2
    assert "demo.rsh:2: unknown command 'bogus'" in run.err
    assert len(api.calls) == 0  # a usage error anywhere in the script: nothing was sent (exit 2)


def test_keep_going_runs_the_rest_and_returns_the_first_failure(me) -> None:
    run = Run()
    code = run("bogus\naccount current\n", source="demo.rsh", keep_going=True)
    assert code == 2
    assert len(me.calls) == 1


def test_parse_error_points_at_the_column() -> None:
    run = Run()
    assert run("show 'unclosed") == 2
    assert "error:" in run.err and "^" in run.err


def test_api_errors_exit_1_with_the_problem_detail(api) -> None:
    api.get("/account").respond(
        403,
        json={"title": "Forbidden", "detail": "You may not do that.", "status": 403},
        headers={"content-type": "application/problem+json"},
    )
    run = Run()
    assert run("account current") == 1
    assert "You may not do that." in run.err
    assert TOKEN not in run.err + run.out


def test_json_output_when_not_a_terminal(me) -> None:
    run = Run(json_mode=None)  # StringIO is not a TTY
    assert run("account current") == 0
    assert json.loads(run.out)["username"] == "alice"


def test_save_then_source_replays_the_session(me, tmp_path: Path) -> None:
    script = tmp_path / "s.rsh"
    run = Run()
    assert run(f"alias me='account current'\nwho = me\nshow who.username\nsave {script}") == 0
    text = script.read_text()
    assert "who = me" in text and "show who" not in text and TOKEN not in text
    replay = Run()
    assert replay(f"source {script}") == 0
    assert replay.session.variables["who"]["username"] == "alice"


def test_exit_stops_the_remaining_statements(api) -> None:
    run = Run()
    assert run("exit; account current") == 0
    assert not api.calls and run.out == ""  # nothing after `exit` ran


def test_set_and_vars(me) -> None:
    run = Run()
    assert run("set json on; me = account current; set json off; vars") == 0
    assert '"username": "alice"' in run.out
    assert "me" in run.out.splitlines()[-1] and "object" in run.out.splitlines()[-1]


def test_status_never_shows_the_token(api) -> None:
    run = Run()
    assert run("status") == 0
    assert TOKEN not in run.out and "api.replicate.com" in run.out


def test_dry_run_prints_mutations_and_sends_none(api) -> None:
    ran = rsh("deployments delete me/dep\nprediction cancel p1\n", api=(BASE, None), dry_run=True, source="d.rsh")
    assert ran.code == 0 and not api.calls
    lines = ran.stdout.splitlines()
    assert lines[0] == f"DELETE {BASE}/deployments/me/dep"
    assert lines[1] == f"POST {BASE}/predictions/p1/cancel"


def test_text_only_results_print_as_text_even_off_a_terminal() -> None:
    run = Run(json_mode=None)
    assert run("help run") == 0
    assert run.out.startswith("usage: prediction create")


def test_set_refuses_values_outside_an_options_choices() -> None:
    run = Run()
    assert run("set editing_mode emacs; set editing_mode vim") == 2
    assert "option 'editing_mode' is one of emacs, vi; got 'vim'" in run.err
    assert run.session.options["editing_mode"] == "emacs"


def test_vars_summaries_read_like_the_output() -> None:
    from rshell.commands.builtins import describe

    tokens = {"id": "p1", "status": "succeeded", "input": {}, "output": ["once", " upon", " a time"]}
    files = {"id": "p2", "status": "succeeded", "input": {}, "output": ["https://x/a.png", "https://x/b.png"]}
    assert describe(tokens) == ("prediction", "succeeded", "once upon a time")
    assert describe(files) == ("prediction", "succeeded", "2 files: https://x/a.png")
    # the one run test (`client.fields.json_run_kind`): a training by its URL, a user's odd `urls` no crash
    training = {"id": "t1", "status": "starting", "urls": {"get": "https://api/v1/trainings/t1"}}
    assert describe(training) == ("training", "starting", "t1")
    assert describe({"id": "x", "status": "ok", "urls": "not an object"}) == ("object", "ok", "x")


def test_only_the_last_stage_prints_and_a_system_stage_still_binds(me, tmp_path: Path) -> None:
    target = tmp_path / "piped.json"
    run = Run()
    assert run(f"me = account current | !cat > {target}") == 0
    assert run.out == ""  # the first stage's result went down the pipe, not to stdout
    assert json.loads(target.read_text())["username"] == "alice"
    assert run.session.variables["me"]["username"] == "alice" and run.session.last["username"] == "alice"


def test_a_failing_stage_stops_the_pipeline(api, tmp_path: Path) -> None:
    import api_fixtures as fx

    marker = tmp_path / "ran"
    api.get("/models/stability-ai/sdxl").respond(200, json=fx.model(is_official=True))
    api.post("/models/stability-ai/sdxl/predictions").respond(201, json=fx.prediction("failed"))
    run = Run()
    assert run(f"x = run stability-ai/sdxl prompt=hi | !touch {marker}") == 1
    assert not marker.exists()
    assert "failed" in run.err and run.session.variables["x"]["status"] == "failed"
