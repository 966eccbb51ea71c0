"""Help text and `references/commands.md`, both derived from the catalog."""

from __future__ import annotations

import re
from collections.abc import Mapping

from rshell.commands import catalog, topics
from rshell.commands.arguments import usage
from rshell.commands.registry import GLOBAL_FLAGS, Command, unknown
from rshell.errors import UsageError

_GROUP_TITLES = {
    "prediction": "Predictions",
    "model": "Models",
    "training": "Trainings",
    "deployments": "Deployments",
    "hardware": "Hardware",
    "account": "Account",
    "auth": "Authentication",
    "files": "Files",
    "collections": "Collections",
    "webhooks": "Webhooks",
}
# "  name     description": the description's column is after the first run of two spaces
_COLUMN = re.compile(r"\s*\S+(?: \S+)*\s{2,}(?=\S)")


def _aliases_of(command: Command) -> list[str]:
    """Other spellings of `command`: its declared aliases, then the short group names."""
    found = list(command.aliases)
    if len(command.path) == 2:
        short = [a for a, g in catalog.GROUP_ALIASES.items() if g == command.path[0] and a != command.path[0]]
        found += [f"{a} {command.path[1]}" for a in short]
    return found


def _listed(commands: list[Command]) -> list[Command]:
    """A group's commands, each followed by its three-word subcommands."""
    found: list[Command] = []
    for command in commands:
        found.append(command)
        found += catalog.NESTED.get((command.path[0], command.path[1]), {}).values()
    return found


def _alias_line() -> str:
    return ", ".join(f"{a} = {' '.join(w)}" for a, w in catalog.COMMAND_ALIASES.items())


def overview() -> str:
    """`help` alone: every command, grouped, one line each."""
    lines = ["Commands (`help COMMAND` or `COMMAND --help` for details; `replicate` may prefix any command):", ""]
    for group, commands in catalog.GROUPS.items():
        lines.append(f"{_GROUP_TITLES.get(group, group)}:")
        lines += [f"  {c.name:<24} {c.help}" for c in _listed(commands)]
        lines.append("")
    lines.append("Other commands:")
    lines += [f"  {c.name:<24} {c.help}" for c in catalog.TOP_LEVEL.values() if not c.builtin]
    lines.append("")
    lines.append("Shell builtins:")
    lines += [f"  {c.name:<24} {c.help}" for c in catalog.TOP_LEVEL.values() if c.builtin]
    lines.append("")
    lines.append(f"Aliases: {_alias_line()}; m, p, t, d, hw, a name the groups.")
    lines.append(f"Topics (`help TOPIC`): {', '.join(topics.TOPICS)}.")
    return "\n".join(lines)


def command_help(command: Command) -> str:
    """`help prediction create` or `run --help`: usage, arguments, flags, examples."""
    lines = [f"usage: {usage(command)}", "", command.help]
    aliases = _aliases_of(command)
    if aliases:
        lines.append(f"Also: {', '.join(aliases)}")
    if command.args:
        lines += ["", "Arguments:"]
        for arg in command.args:
            name = "key=value ..." if arg.inputs else f"<{arg.name}>"
            lines.append(_entry(name, f"{arg.help}{'' if arg.required or arg.inputs else ' (optional)'}"))
    flags = command.flags + GLOBAL_FLAGS
    lines += ["", "Flags:"]
    for flag in flags:
        default = command.defaults.get(flag.dest)
        note = ""
        if flag.required:
            note = " (required)"
        elif flag.takes_value and default is not None:
            note = f" (default: {default})"
        lines.append(_entry(flag.names, f"{flag.help}{note}"))
    if command.examples:
        lines += ["", "Examples:"] + [f"  {e}" for e in command.examples]
    return "\n".join(lines)


def _entry(label: str, text: str) -> str:
    """`  --flag VALUE   what it does`; a label too long for the column gets a line of its own."""
    if len(label) > _LABEL:
        return f"  {label}\n{' ' * (_LABEL + 3)}{text}"
    return f"  {label:<{_LABEL}} {text}"


_LABEL = 28


def group_help(group: str) -> str:
    commands = catalog.GROUPS[group]
    lines = [f"{_GROUP_TITLES.get(group, group)} (`{group} SUBCOMMAND`, `{group} SUBCOMMAND --help`):"]
    lines += [f"  {c.name:<24} {c.help}" for c in _listed(commands)]
    extra = [f"{group} {sub} = {' '.join(t)}" for (g, sub), t in catalog.SUBCOMMAND_ALIASES.items() if g == group]
    default = catalog.GROUP_DEFAULTS.get(group)
    if default is not None:
        extra.insert(0, f"{group} = {default.name}")
    if extra:
        lines.append(f"Also: {', '.join(extra)}")
    return "\n".join(lines)


def is_topic(words: list[str]) -> bool:
    """`help TOPIC` names a grammar topic (Markdown); a command or group of the same name wins."""
    return len(words) == 1 and words[0] in topics.TOPICS and words[0] not in catalog.command_words()


def help_for(words: list[str], aliases: Mapping[str, str] | None = None) -> str:
    """Help for whatever `words` name: nothing, a group, a command, an alias (the
    catalog's or the user's, read by the resolver as the executor reads it) or a topic."""
    if not words:
        return overview()
    if aliases and words[0] in aliases:
        return _user_alias_help(words, aliases)
    if is_topic(words):
        return topics.topic_text(words[0])
    words = catalog.expand_command_alias(words)
    group = catalog.GROUP_ALIASES.get(words[0])
    if group and len(words) == 1:
        return group_help(group)
    try:
        command, _ = catalog.resolve(words)
    except UsageError:
        if len(words) == 1 and words[0] not in catalog.TOP_LEVEL:
            candidates = catalog.command_words() + list(topics.TOPICS)
            raise unknown("command or topic", words[0], candidates) from None
        raise
    return command_help(command)


def _user_alias_help(words: list[str], aliases: Mapping[str, str]) -> str:
    from rshell.commands.resolver import resolve
    from rshell.grammar.lexer import Word

    command, _ = resolve([Word(w, 0, len(w)) for w in words], aliases)
    return f"{words[0]}: alias for `{aliases[words[0]]}`\n\n" + command_help(command)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _global_options_table() -> list[str]:
    """rshell's own options (`rshell --help`), from their one declaration in cli."""
    from rshell.cli import GLOBAL_OPTIONS

    rows = [f"| `{o.label}` | {o.help} |" for o in GLOBAL_OPTIONS if not o.hidden]
    return ["rshell's own options, before the statement:", "", "| option | meaning |", "|---|---|", *rows, ""]


def commands_markdown() -> str:
    """The text of references/commands.md (a test keeps the file current)."""
    out = [
        "# rshell commands",
        "",
        "Generated from `rshell/commands/catalog.py` by `python -m rshell.commands.help`;",
        "a test fails when this file is out of date. Every command also takes `--json`",
        "(print the API's JSON) and `--help` (`-h`), anywhere on the line.",
        "",
        "Aliases: "
        + ", ".join(f"`{a}` = `{' '.join(w)}`" for a, w in catalog.COMMAND_ALIASES.items())
        + ", "
        + ", ".join(f"`{g} {sub}` = `{' '.join(w)}`" for (g, sub), w in catalog.SUBCOMMAND_ALIASES.items())
        + ", "
        + ", ".join(f"`{g}` = `{c.name}`" for g, c in catalog.GROUP_DEFAULTS.items())
        + "; groups: "
        + ", ".join(f"`{a}`" for a, g in catalog.GROUP_ALIASES.items() if a != g)
        + ".",
        "",
        *_global_options_table(),
    ]
    for command in catalog.COMMANDS:
        out += [f"## {command.name}", "", command.help, "", "```", usage(command), "```", ""]
        aliases = _aliases_of(command)
        if aliases:
            out += ["Also: " + ", ".join(f"`{a}`" for a in aliases), ""]
        rows = [(f"`<{a.name}>`" if not a.inputs else "`key=value ...`", a.help) for a in command.args]
        rows += [(f"`{f.names}`", f.help + (" (required)" if f.required else "")) for f in command.flags]
        if rows:
            out += ["| argument | meaning |", "|---|---|"] + [f"| {_cell(a)} | {_cell(b)} |" for a, b in rows] + [""]
        if command.examples:
            out += ["Examples:", ""] + [f"    {e}" for e in command.examples] + [""]
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    import pathlib

    target = pathlib.Path(__file__).resolve().parents[2] / "references" / "commands.md"
    target.write_text(commands_markdown())
    print(f"wrote {target}")


def fitted(text: str, width: int) -> str:
    """Help text for a terminal `width` columns wide: a long line breaks between words,
    carrying on under its description's column (four spaces in when that column is
    past two thirds of the width). Off a terminal the text stays as it is, one line per entry."""
    return "\n".join(_fitted_line(line, width) for line in text.splitlines())


def _fitted_line(line: str, width: int) -> str:
    if len(line) <= width:
        return line
    import textwrap

    column = _COLUMN.match(line)
    hang = column.end() if column and column.end() <= width * 2 // 3 else len(line) - len(line.lstrip()) + 4
    return textwrap.fill(line, width, subsequent_indent=" " * hang, break_on_hyphens=False, break_long_words=False)
