"""`--help`/`-h` anywhere on a line, for every command and group, and `help TOPIC`
(issue 11 item 2), through the real entry points: the executor every mode shares, and
the composition root `cli.main(args, env)` the `rshell` process runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import respx
from rsh import Outcome, rsh, rshell_main

from rshell.commands import catalog, topics
from rshell.commands.help import command_help, group_help

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://api.test/v1"


def run(text: str, source: str = "-c") -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `text`; any request at all fails the test."""
    with respx.mock(assert_all_mocked=True) as router:  # no routes: any request fails the run
        ran = rsh(text, api=(BASE, "r8_fake-helptoken"), json_mode=None, source=source)
        assert router.calls.call_count == 0, "help must send nothing"
    return ran.code, ran.stdout, ran.stderr


@pytest.mark.parametrize("flag", ["--help", "-h"])
@pytest.mark.parametrize("command", catalog.COMMANDS, ids=[c.name for c in catalog.COMMANDS])
def test_every_command_prints_its_help(command, flag: str) -> None:
    code, out, err = run(f"{command.name} {flag}")
    assert (code, err) == (0, "")
    assert out == command_help(command) + "\n"


@pytest.mark.parametrize("flag", ["--help", "-h"])
@pytest.mark.parametrize("group", sorted(catalog.GROUPS))
def test_every_group_prints_its_help(group: str, flag: str) -> None:
    code, out, err = run(f"{group} {flag}")
    assert (code, err) == (0, "")
    assert out == group_help(group) + "\n"


@pytest.mark.parametrize(
    "line, path",
    [
        ("run stability-ai/sdxl prompt=x --help", ("prediction", "create")),
        ("replicate prediction new stability-ai/sdxl -h", ("prediction", "create")),
        ("prediction show abc -h", ("prediction", "show")),
        ("model schema --help", ("model", "schema")),  # its argument is required, help still wins
        ("run a/b --stram --max 3 notkeyvalue -h", ("prediction", "create")),  # so do bad words
        ("deployments update me/d --max-instances many --help", ("deployments", "update")),
        ("whoami -h", ("account", "current")),
        ("train -d --help", ("training", "create")),
    ],
)
def test_help_anywhere_on_the_line_wins(line: str, path: tuple[str, ...]) -> None:
    if path != ("prediction", "create"):
        code, out, err = run(line)
        assert (code, err) == (0, "")
        assert out == command_help(catalog.BY_PATH[path]) + "\n"
        return
    with respx.mock(assert_all_mocked=True) as router:  # `run MODEL --help` asks only for MODEL's schema
        router.get(url__startswith=f"{BASE}/models/").respond(404, json={"detail": "not here"})
        ran = rsh(line, api=(BASE, "r8_fake-helptoken"), json_mode=None)
        assert all(call.request.method == "GET" for call in router.calls)
    assert (ran.code, ran.stderr) == (0, "")
    assert ran.stdout.startswith(command_help(catalog.BY_PATH[path]) + "\n")
    if router.calls:
        assert "are not shown" in ran.stdout  # the help stands without the schema


def test_after_a_group_and_its_flags() -> None:
    assert run("m --json --help")[1] == group_help("model") + "\n"
    assert run("account -h")[1] == group_help("account") + "\n"


def test_help_in_a_script_prints_and_goes_on() -> None:
    code, out, _ = run("run --help\nhardware -h\nhelp pipes\n", source="script.rsh")
    assert code == 0
    assert command_help(catalog.BY_PATH[("prediction", "create")]) in out
    assert group_help("hardware") in out and "Pipelines\n---------" in out


@pytest.mark.parametrize("topic", list(topics.TOPICS))
def test_help_topics_come_from_grammar_md(topic: str) -> None:
    from rshell.rendering.markdown import inline, render_markdown

    grammar = (ROOT / "references" / "grammar.md").read_text()
    code, out, err = run(f"help {topic}")
    assert (code, err) == (0, "")
    for heading in topics.TOPICS[topic]:
        assert f"{inline(heading)}\n---" in out
    sections = [topics.section(grammar.splitlines(), heading) for heading in topics.TOPICS[topic]]
    assert out == render_markdown("\n\n".join(sections), 100) + "\n"  # the reference's text, laid out


def test_help_for_an_unknown_topic_suggests_one() -> None:
    code, _, err = run("help templats")
    assert code == 2 and "unknown command or topic 'templats'" in err and "did you mean 'templates'?" in err


def test_help_lists_the_topics() -> None:
    assert "Topics (`help TOPIC`): " + ", ".join(topics.TOPICS) in run("help")[1]


# rshell's command line, through the composition root ----------------------------------


def rshell(*args: str) -> Outcome:
    """`rshell ARGS` with no token or base URL in its environment, in this process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPLICATE_")}
    return rshell_main(*args, env=env)


@pytest.mark.parametrize(
    "argv, path",
    [
        (["run", "--help"], ("prediction", "create")),
        (["run", "-h"], ("prediction", "create")),
        (["model", "schema", "--help"], ("model", "schema")),
        (["-c", "run --help"], ("prediction", "create")),
    ],
)
def test_one_shot_help(argv: list[str], path: tuple[str, ...]) -> None:
    done = rshell(*argv)
    assert (done.code, done.stderr) == (0, "")
    assert done.stdout == command_help(catalog.BY_PATH[path]) + "\n"


def test_one_shot_group_help() -> None:
    done = rshell("model", "--help")
    assert (done.code, done.stdout) == (0, group_help("model") + "\n")


def test_version_and_completion_one_shots() -> None:
    from rshell import __version__

    for flag in ("-v", "--version"):
        done = rshell(flag)
        assert (done.code, done.stdout) == (0, f"rshell {__version__}\n")
    for shell, name in (("bash", "rshell.bash"), ("zsh", "_rshell"), ("fish", "rshell.fish")):
        done = rshell("completion", shell)
        assert done.code == 0 and done.stdout == (ROOT / "completers" / name).read_text()
    done = rshell("completion", "powershell")
    assert done.code == 2 and "no PowerShell completion" in done.stderr and done.stdout == ""
