"""Issue 23 item 2, against the live sandbox: every statement's result is also `_1`,
`_2`, … (IPython's Out[n]), `__` the one before last; `history` shows which line made
which number; `rerun-line N` and `!!` run a history line again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rsh import rsh

from rshell.errors import ParseError, UsageError
from rshell.session.state import Session


def _on(sandbox: Any) -> tuple[str, str]:
    return (sandbox.url, sandbox.token)


def _outputs(sandbox: Any) -> list[str]:
    return sorted(str(p.get("output")) for p in sandbox.sandbox.store.values("predictions"))


def test_each_result_is_numbered_and_double_underscore_is_the_one_before_last(sandbox) -> None:
    session = Session()
    assert rsh("run rshell/echo text=first", session=session, api=_on(sandbox)).code == 0
    assert rsh("vars", session=session, api=_on(sandbox)).code == 0  # shows only: no number
    assert rsh("run rshell/echo text=second", session=session, api=_on(sandbox)).code == 0
    assert rsh("show _1.output", session=session).json == "first"
    assert rsh("show _2.output", session=session).json == "second"
    assert rsh("show __.output", session=session).json == "first"
    chained = rsh("run rshell/echo text={{_1.output}} upper=true", session=session, api=_on(sandbox))
    assert chained.code == 0, chained.stderr
    assert chained.json["output"] == "FIRST"
    assert rsh("show _3.output", session=session).json == "FIRST"
    assert rsh("show __.output", session=session).json == "second"


def test_a_number_not_made_yet_and_binding_to_one_are_usage_errors(sandbox) -> None:
    session = Session()
    assert rsh("show __", session=session).code == 2
    missing = rsh("show _7", session=session)
    assert missing.code == 2 and isinstance(missing.error, UsageError)
    assert "'_7' is not set yet" in missing.error.message
    bound = rsh("_1 = run rshell/echo text=x", session=session, api=_on(sandbox))
    assert bound.code == 2 and isinstance(bound.error, ParseError)
    assert "numbered result" in bound.error.message
    assert _outputs(sandbox) == []


def test_a_script_may_use_the_numbers_its_own_lines_make(sandbox) -> None:
    ran = rsh("run rshell/echo text=a\nrun rshell/echo text={{_1.output}}b\nshow __.output", api=_on(sandbox))
    assert ran.code == 0, ran.stderr
    assert ran.stdout.splitlines()[-1] == '"a"'


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A history file (prompt-toolkit's format) in a private data directory."""
    monkeypatch.setenv("RSHELL_DATA_DIR", str(tmp_path / "data"))

    def write(*lines: str) -> None:
        (tmp_path / "data").mkdir(exist_ok=True)
        with (tmp_path / "data" / "history").open("a") as f:
            for line in lines:
                f.write(f"\n# 2026-01-01\n+{line}\n")

    return write


def test_history_marks_the_lines_that_made_each_number(sandbox, history: Any) -> None:
    session = Session()
    history("model list", "run rshell/echo text=a", "vars", "run rshell/echo text=b; run rshell/echo text=c")
    for line in ("run rshell/echo text=a", "vars", "run rshell/echo text=b; run rshell/echo text=c"):
        assert rsh(line, session=session, api=_on(sandbox)).code == 0
    listed = rsh("history", session=session, json_mode=False).stdout.splitlines()
    assert listed[0].rstrip().endswith("model list")
    assert listed[1].endswith("run rshell/echo text=a  → _1")
    assert listed[2].endswith("vars")
    assert listed[3].endswith("→ _2 _3")


def test_rerun_line_and_bang_bang_run_a_history_line_again(sandbox, history: Any) -> None:
    session = Session()
    history("run rshell/echo text=one", "run rshell/echo text=two")
    ran = rsh("rerun-line 1", session=session, api=_on(sandbox))
    assert ran.code == 0, ran.stderr
    assert "rerun-line 1: run rshell/echo text=one" in ran.stderr
    assert ran.data["output"] == "one"
    history("rerun-line 1", "!!")
    again = rsh("!!", session=session, api=_on(sandbox))  # the last line that is not itself a rerun
    assert again.code == 0, again.stderr
    assert again.data["output"] == "two"
    assert _outputs(sandbox) == ["one", "two"]
    assert rsh("show _2.output", session=session).json == "two"
    assert session.statements == ["run rshell/echo text=one", "run rshell/echo text=two"]  # `save` keeps what ran


def test_rerun_line_refuses_what_it_cannot_run(sandbox, history: Any) -> None:
    history("run rshell/echo text=one", "rerun-line 1")
    for line, said in (
        ("rerun-line 9", "no history line"),
        ("rerun-line x", "no history line"),
        ("rerun-line 2", "itself a rerun"),
    ):
        ran = rsh(line, api=_on(sandbox))
        assert ran.code == 2, (line, ran.stderr)
        assert said in ran.error.message
    assert _outputs(sandbox) == []


def test_the_toolbar_shows_the_name_the_next_result_gets() -> None:
    from rshell.repl import prompt

    session = Session()
    bar = "".join(text for _, text in prompt.toolbar(session, "alice", "https://api.replicate.com/v1"))
    assert "next:" not in bar
    session.numbered.add({"id": "p1"}, "run a/b")
    session.numbered.add({"id": "p2"}, "run a/b")
    bar = "".join(text for _, text in prompt.toolbar(session, "alice", "https://api.replicate.com/v1"))
    assert bar.endswith(" | next: _3 | emacs ")
    narrow = "".join(text for _, text in prompt.toolbar(session, "alice", "https://api.replicate.com/v1", width=40))
    assert "next:" not in narrow and narrow.endswith("emacs ")


def test_numbered_results_complete_where_names_do() -> None:
    from rshell.completion.variables import candidates

    session = Session()
    for n in range(12):
        session.numbered.add({"id": f"p{n}", "output": ["x"]}, "run a/b")
    offered = [c.text for c in candidates("_1", session)]
    assert "_12" in offered and "_11" in offered and "_1" not in offered  # the newest ten
    assert [c.text for c in candidates("_12.", session)] == ["_12.id", "_12.output"]
