"""rshell's own command line: options, modes and their errors."""

from __future__ import annotations

import pytest

from rshell.cli import parse_options
from rshell.errors import UsageError


def test_leading_options_then_words() -> None:
    opts = parse_options(["--local", "--session", "work", "run", "a/b", "prompt=hi", "--json"])
    assert opts.local and opts.session == "work"
    assert opts.words == ["run", "a/b", "prompt=hi", "--json"]  # --json belongs to the command
    assert not opts.json


def test_dash_c_and_equals_forms() -> None:
    opts = parse_options(["--session=s", "-c", "hardware list", "--json"])
    assert opts.command == "hardware list" and opts.session == "s" and opts.json


def test_complete_shell_goes_with_complete() -> None:
    opts = parse_options(["--complete-shell", "zsh", "--complete", "rshell run "])
    assert (opts.complete_shell, opts.complete) == ("zsh", "rshell run ")


def test_script_flags_may_follow_the_path() -> None:
    opts = parse_options(["demo.rsh", "--dry-run", "--keep-going"])
    assert opts.words == ["demo.rsh", "--dry-run", "--keep-going"]
    assert opts.dry_run and opts.keep_going


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--nope"], "unknown option '--nope'"),
        (["-c"], "-c needs a value"),
        (["demo.rsh", "--json"], "unexpected '--json' after the script path"),
        (["--complete-shell", "bash", "run"], "--complete-shell goes with --complete LINE"),
    ],
)
def test_bad_options(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_options(argv)


def test_rshells_options_are_declared_once_and_read_everywhere() -> None:
    """Issue 17: the usage text, the parser, the completers and the docs read GLOBAL_OPTIONS."""
    from pathlib import Path

    from rshell.cli import GLOBAL_OPTIONS, USAGE
    from rshell.completion import oneshot

    docs = (Path(__file__).resolve().parents[1] / "references" / "commands.md").read_text()
    offered = {c.text for c in oneshot._option_completions("-")}
    for option in GLOBAL_OPTIONS:
        if option.hidden:
            continue
        assert f"  {option.label} " in USAGE and f"`{option.label}`" in docs
        assert set(option.names) <= offered
        if not option.ends:
            argv = [option.name] + (["x"] if option.metavar else []) + ["vars"]
            assert parse_options(argv).words == ["vars"]
