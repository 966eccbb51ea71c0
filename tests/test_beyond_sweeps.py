"""Issue 23 item 1: parameter sweeps in a `run` line. The grammar (quoting keeps a
value literal), `--dry-run`'s list of combinations, every combination validated
before the first create, and a sweep run for real against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest
from rsh import rsh, rshell_main

from rshell.errors import UsageError
from rshell.grammar.lexer import tokenize
from rshell.grammar.sweeps import axes, combinations


def _axes(line: str) -> list[tuple[str, tuple[str, ...]]]:
    words = [t.word for t in tokenize(line) if t.word is not None]
    return [(a.key, a.values) for a in axes(words)]


def test_ranges_number_ranges_and_lists() -> None:
    assert _axes("seed=1..4") == [("seed", ("1", "2", "3", "4"))]
    assert _axes("scale=0..1/0.25") == [("scale", ("0", "0.25", "0.5", "0.75", "1"))]
    assert _axes("style=noise,blocks seed=-1..0") == [("style", ("noise", "blocks")), ("seed", ("-1", "0"))]


@pytest.mark.parametrize(
    "line",
    [
        "seed='1..4'",
        'style="noise,blocks"',
        "style=noise\\,blocks",
        "prompt=fox",
        "tags=[1,2]",
        "image=https://x.test/a,b.png",
        "text={{x.output}},2",
        "--webhook-events start,completed",
    ],
)
def test_quoted_json_urls_templates_and_flags_stay_literal(line: str) -> None:
    assert _axes(line) == []


@pytest.mark.parametrize(
    ("line", "said"),
    [("seed=4..1", "backwards"), ("seed=1..5000", "at most"), ("style=a,,b", "empty item"), ("x=0..1/0", "step")],
)
def test_bad_sweeps_are_usage_errors(line: str, said: str) -> None:
    with pytest.raises(UsageError, match=said):
        _axes(line)


def test_the_cross_product_varies_the_last_axis_fastest() -> None:
    words = [t.word for t in tokenize("seed=1..2 style=a,b") if t.word is not None]
    assert combinations(axes(words)) == [
        {"seed": "1", "style": "a"},
        {"seed": "1", "style": "b"},
        {"seed": "2", "style": "a"},
        {"seed": "2", "style": "b"},
    ]


def _on(sandbox: Any) -> tuple[str, str]:
    return (sandbox.url, sandbox.token)


def _count(sandbox: Any) -> int:
    return len(sandbox.sandbox.store.values("predictions"))


def test_dry_run_lists_the_combinations_and_creates_nothing(sandbox) -> None:
    ran = rsh(
        "run rshell/pixels prompt=fox seed=1..4 style=noise,blocks", api=_on(sandbox), dry_run=True, json_mode=False
    )
    assert ran.code == 0, ran.stderr
    assert ran.stdout.startswith("8 runs (dry run: nothing created)")
    lines = ran.stdout.splitlines()
    assert (
        lines[1].split() == ["SEED", "STYLE"]
        and lines[2].split() == ["1", "noise"]
        and lines[-1].split() == ["4", "blocks"]
    )
    assert _count(sandbox) == 0


def test_every_combination_is_validated_before_the_first_create(sandbox) -> None:
    ran = rsh("run rshell/pixels prompt=fox width=64,8", api=_on(sandbox))
    assert ran.code == 2, ran.stderr
    assert ran.error.message.startswith("width=8:")
    assert _count(sandbox) == 0


def test_more_than_sixteen_runs_need_yes(sandbox) -> None:
    ran = rsh("run rshell/echo text=x times=1..2 data=a,b,c,d,e,f,g,h,i", api=_on(sandbox))
    assert ran.code == 2 and "--yes" in (ran.error.hint or "")
    assert _count(sandbox) == 0


def test_a_sweep_runs_the_cross_product_and_binds_the_list(sandbox) -> None:
    from rshell.session.state import Session

    session = Session()
    ran = rsh(
        "s = run rshell/echo text=hi times=1..2 upper=true,false", session=session, api=_on(sandbox), json_mode=False
    )
    assert ran.code == 0, ran.stderr
    table = ran.stdout.splitlines()
    assert table[0].split() == ["TIMES", "UPPER", "STATUS", "TIME", "OUTPUT"]
    assert table[1].split()[:3] == ["1", "true", "succeeded"] and table[1].split()[-1] == "HI"
    assert table[4].split()[:3] == ["2", "false", "succeeded"] and table[4].split()[-2:] == ["hi", "hi"]
    bound = session.lookup("s")
    assert [r["input"] for r in bound] == [
        {"times": "1", "upper": "true"},
        {"times": "1", "upper": "false"},
        {"times": "2", "upper": "true"},
        {"times": "2", "upper": "false"},
    ]
    assert [r["output"] for r in bound] == ["HI", "hi", "HI HI", "hi hi"]
    assert _count(sandbox) == 4


def test_a_sweeps_list_completes_its_next_enum_value() -> None:
    import asyncio

    import respx
    from test_completion_support import make_rig

    async def main() -> tuple[list[tuple[str, int]], list[str]]:
        with respx.mock(assert_all_called=False) as router:
            rig = make_rig(router)
            try:
                await rig.settle("run stability-ai/sdxl ")
                found = rig.engine.complete("run stability-ai/sdxl scheduler=DDIM,K_E")
                quoted = rig.texts("run stability-ai/sdxl prompt='a,b")
                return [(c.text, c.start) for c in found], quoted
            finally:
                await rig.client.aclose()

    listed, quoted = asyncio.run(main())
    assert listed == [("K_EULER_ANCESTRAL", -3), ("K_EULER", -3)]
    assert quoted == []


def test_a_sweep_from_the_command_line_process(sandbox, tmp_path) -> None:
    """`rshell run … seed=1..2 style=noise,blocks` as a user runs it: through the
    composition root (in this process), with a process's environment."""
    import json
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLICATE_", "XDG_", "RSHELL_"))}
    env.update(
        REPLICATE_BASE_URL=sandbox.url,
        REPLICATE_API_TOKEN=sandbox.token,
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    done = rshell_main("run", "rshell/pixels", "prompt=fox", "seed=1..2", "style=noise,blocks", env=env, cwd=tmp_path)
    assert done.code == 0, done.stderr
    runs = json.loads(done.stdout)
    assert [r["input"] for r in runs] == [
        {"seed": "1", "style": "noise"},
        {"seed": "1", "style": "blocks"},
        {"seed": "2", "style": "noise"},
        {"seed": "2", "style": "blocks"},
    ]
    assert all(r["status"] == "succeeded" and r["output"] for r in runs)
    inputs = sorted((p["input"]["seed"], p["input"]["style"]) for p in sandbox.sandbox.store.values("predictions"))
    assert inputs == [(1, "blocks"), (1, "noise"), (2, "blocks"), (2, "noise")]
    assert sandbox.token not in done.stdout + done.stderr


def test_preview_of_a_sweep_draws_one_contact_sheet_with_the_values_under_each(sandbox, monkeypatch) -> None:
    from rshell.rendering import contact
    from rshell.session.state import Session

    sheets: list[Any] = []
    made = contact.contact_sheet

    def kept(cells: list[tuple[Any, list[str]]], columns: int = contact.COLUMNS) -> Any:
        sheets.append((cells, made(cells, columns)))
        return sheets[-1][1]

    monkeypatch.setattr(contact, "contact_sheet", kept)
    session = Session()
    assert (
        rsh("s = run rshell/pixels prompt=fox seed=1..2 style=noise,blocks", session=session, api=_on(sandbox)).code
        == 0
    )
    ran = rsh("preview s", session=session, api=_on(sandbox), stdout_tty=True)
    assert ran.code == 0, ran.stderr
    assert "\x1b[" in ran.stdout and len(ran.stdout.splitlines()) >= 4  # drawn on the terminal
    ((cells, sheet),) = sheets
    assert [label for _, label in cells] == [
        ["seed=1", "style=noise"],
        ["seed=1", "style=blocks"],
        ["seed=2", "style=noise"],
        ["seed=2", "style=blocks"],
    ]
    assert all(picture is not None for picture, _ in cells)  # each run's image, fetched and decoded
    assert sheet.width > 4 * contact.CELL and sheet.height > contact.CELL + 2 * contact.LABEL
    # the labels are drawn: the strip under the first thumbnail is not all white
    strip = sheet.crop(
        (
            contact.GAP,
            contact.GAP + contact.CELL,
            contact.GAP + contact.CELL,
            contact.GAP + contact.CELL + contact.LABEL,
        )
    )
    assert strip.getextrema() != ((255, 255), (255, 255), (255, 255))


def test_preview_takes_a_numbered_result(sandbox) -> None:
    from rshell.session.state import Session

    session = Session()
    assert rsh("run rshell/pixels prompt=fox", session=session, api=_on(sandbox)).code == 0
    assert rsh("vars", session=session).code == 0
    ran = rsh("preview _1", session=session, api=_on(sandbox), stdout_tty=True)
    assert ran.code == 0, ran.stderr
    assert "\x1b[" in ran.stdout


@pytest.mark.parametrize(("answer", "created"), [("n\n", 0), ("\n", 0), ("y\n", 18)])
def test_the_shell_asks_before_a_sweep_of_more_than_sixteen(sandbox, answer: str, created: int) -> None:
    import io

    from rshell.commands.context import Environment

    ran = rsh(
        "run rshell/echo text=x times=1..2 data=a,b,c,d,e,f,g,h,i",
        api=_on(sandbox),
        interactive=True,
        env=Environment(stdin=io.StringIO(answer)),
    )
    assert "this sweep runs 18 predictions (more than 16); run them all? [y/N]" in ran.stderr
    assert ran.code == (0 if created else 2), ran.stderr
    assert _count(sandbox) == created
