"""The command declarations: look-up, argument parsing, help and generated docs."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

from rshell.commands import catalog
from rshell.commands.arguments import parse_args
from rshell.commands.help import command_help, commands_markdown, help_for, overview
from rshell.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]


def resolve(line: str):
    command, rest = catalog.resolve(catalog.expand_command_alias(line.split()))
    return command, parse_args(command, rest)


@pytest.mark.parametrize(
    "line, path",
    [
        ("run a/b", ("prediction", "create")),
        ("replicate run a/b", ("prediction", "create")),
        ("stream a/b", ("prediction", "create")),
        ("train a/b:v --destination me/x", ("training", "create")),
        ("p list", ("prediction", "list")),
        ("predictions show x", ("prediction", "show")),
        ("m schema a/b", ("model", "schema")),
        ("models versions a/b", ("model", "versions")),
        ("t cancel x", ("training", "cancel")),
        ("d list", ("deployments", "list")),
        ("deployment list", ("deployments", "list")),
        ("hw list", ("hardware", "list")),
        ("a current", ("account", "current")),
        ("search foxes", ("search",)),
        ("help", ("help",)),
    ],
)
def test_aliases_and_groups_resolve(line: str, path: tuple[str, ...]) -> None:
    assert resolve(line)[0].path == path


def test_stream_alias_sets_the_stream_flag() -> None:
    _, args = resolve("stream a/b prompt=hi")
    assert args.stream is True and args.model == "a/b" and args.inputs == ["prompt=hi"]


def test_flags_positionals_and_inputs() -> None:
    _, args = resolve("run a/b prompt=hi --no-wait --output-directory=out steps=3")
    assert args.model == "a/b"
    assert args.wait is False
    assert args.output_directory == "out"
    assert args.inputs == ["prompt=hi", "steps=3"]


def test_custom_separator_classifies_inputs() -> None:
    _, args = resolve("run a/b prompt:hi --separator :")
    assert args.model == "a/b" and args.inputs == ["prompt:hi"]


def test_deployment_flag_leaves_model_empty() -> None:
    _, args = resolve("run --deployment me/dep prompt=hi")
    assert args.model is None and args.deployment == "me/dep" and args.inputs == ["prompt=hi"]


def test_defaults_are_filled() -> None:
    _, args = resolve("run a/b")
    assert args.wait is True and args.separator == "=" and args.stream is None


def test_int_flag_is_converted() -> None:
    _, args = resolve("deployments update me/d --max-instances 3")
    assert args.max_instances == 3


@pytest.mark.parametrize(
    "line, message, hint",
    [
        ("rnu a/b", "unknown command 'rnu'", "did you mean 'run'?"),
        ("model shwo a/b", "unknown model subcommand 'shwo'", "did you mean 'show'?"),
        ("model", "'model' needs a subcommand", "one of: list, show"),
        ("run a/b --stram", "unknown flag '--stram' for `prediction create`", "did you mean '--stream'?"),
        ("deployments update me/d --max-instances many", "--max-instances needs an integer, got 'many'", None),
        ("run a/b --output-directory", "--output-directory needs a value", "--output-directory DIR"),
        ("scaffold p1 --template ruby", "unknown value 'ruby' for --template", "valid: node, python"),
        ("train a/b:v x=1", "training create needs --destination OWNER/NAME", "--destination"),
        ("prediction show", "`prediction show` needs <id>", "usage: prediction show <id>"),
        ("hardware list extra", "unexpected argument 'extra' for `hardware list`", "usage: hardware list"),
        ("run a/b notakeyvalue", "expected key=value, got 'notakeyvalue'", "prompt='a cat'"),
        ("run a/b --stream=yes", "--stream takes no value", "write just --stream"),
    ],
)
def test_usage_errors_name_the_problem(line: str, message: str, hint: str | None) -> None:
    with pytest.raises(UsageError) as caught:
        resolve(line)
    assert caught.value.exit_code == 2
    assert message in caught.value.message
    if hint:
        assert hint in (caught.value.hint or "")


def test_every_handler_exists_and_is_async() -> None:
    missing = []
    for command in catalog.COMMANDS:
        module_name, _, name = command.handler.partition(":")
        function = getattr(importlib.import_module(module_name), name, None)
        if function is None or not inspect.iscoroutinefunction(function):
            missing.append(command.handler)
    assert missing == []


def test_every_completion_source_is_known() -> None:
    from rshell.completion import sources

    named = {a.complete for c in catalog.COMMANDS for a in c.args if a.complete}
    named |= {f.complete for c in catalog.COMMANDS for f in c.flags if f.complete}
    assert named <= sources.names()


def test_commands_reference_is_current() -> None:
    current = (ROOT / "references" / "commands.md").read_text()
    assert current == commands_markdown(), "run: python -m rshell.commands.help"


def test_help_lists_every_command_and_explains_one() -> None:
    text = overview()
    for command in catalog.COMMANDS:
        assert command.name in text
    detail = help_for(["run"])
    assert detail.startswith("usage: prediction create")
    assert "--stream" in detail and "Also: run, stream" in detail
    assert help_for(["m"]).startswith("Models")
    assert "--destination OWNER/NAME" in command_help(catalog.BY_PATH[("training", "create")])


def test_session_options_supply_flag_defaults() -> None:
    command, rest = catalog.resolve(catalog.expand_command_alias(["run", "a/b", "prompt:hi"]))
    args = parse_args(command, rest, {"separator": ":", "file_encoding": "data", "json": True})
    assert args.inputs == ["prompt:hi"] and args.separator == ":" and args.file_encoding == "data"
    assert args.json is None  # switches are not taken from options
    explicit = parse_args(command, ["a/b", "prompt=hi", "--separator", "="], {"separator": ":"})
    assert explicit.inputs == ["prompt=hi"]


def test_a_versioned_model_is_not_an_input_with_colon_separator() -> None:
    _, args = resolve("run owner/name:abc123 prompt:hi --separator :")
    assert args.model == "owner/name:abc123" and args.inputs == ["prompt:hi"]


def test_help_lists_shell_builtins_apart_from_the_official_clis_offline_commands() -> None:
    """`completion` runs offline yet is the official CLI's, so it is not a builtin;
    the section a command lands in is its declaration's `builtin`, nothing else."""
    other, builtins = overview().split("Shell builtins:")
    other = other.split("Other commands:")[1]
    listed = {line.split()[0] for line in builtins.split("\n\n")[0].splitlines() if line.strip()}
    assert listed == {c.name for c in catalog.TOP_LEVEL.values() if c.builtin}
    assert {"set", "vars", "help", "exit"} <= listed
    assert "  completion " in other and "  scaffold " in other
    assert all(not c.network for c in catalog.COMMANDS if c.builtin)  # a builtin never needs the API


def test_every_command_declares_what_it_means() -> None:
    """Issue 17: what a command means beyond its grammar is declared on it, read by save,
    precheck, completion and the run commands (no path strings elsewhere)."""
    from rshell.commands.catalog import COMMANDS

    for command in COMMANDS:
        assert command.save.kind in ("replays", "reads", "shows", "never"), command.name
        assert bool(command.save.reason) == (command.save.kind != "replays"), command.name
        assert command.scope in (None, "alias", "unalias", "set", "unset", "source"), command.name
        assert command.kind in (None, "prediction", "training"), command.name
    scopes = {c.scope: c.name for c in COMMANDS if c.scope}
    assert scopes == {"alias": "alias", "unalias": "unalias", "set": "set", "unset": "unset", "source": "source"}
    starts = {c.name for c in COMMANDS if c.starts_run}
    assert starts == {"prediction create", "rerun", "training create"}
