"""`help TOPIC`: the grammar's topics, read from `references/grammar.md` itself.

The reference is the one text of the grammar; a topic is one or more of its
sections, so `help templates` and the page a reader opens never disagree. The file
is read only when a topic is asked for, keeping `rshell -c help` light.
"""

from __future__ import annotations

from rshell.errors import RshellError

GRAMMAR = "references/grammar.md"

# topic → the headings (without the #s) of grammar.md that it shows, in order
TOPICS: dict[str, tuple[str, ...]] = {
    "statements": ("Scripts, lines and statements",),
    "quoting": ("Words and quoting",),
    "variables": ("Binding results: `NAME = command`", "`$name` shorthand"),
    "pipes": ("Pipelines",),
    "templates": ("Templates",),
    "inputs": ("Inputs: `key=value`",),
    "uploads": ("Files: `key=@path`",),
    "aliases": ("Aliases",),
    "keys": ("Keys in the shell",),
}


def topic_text(topic: str) -> str:
    """The sections of grammar.md that make up `topic`."""
    from rshell.project_files import read_project_file

    lines = read_project_file(GRAMMAR, f"`help {topic}`").splitlines()
    return "\n\n".join(section(lines, heading) for heading in TOPICS[topic])


def section(lines: list[str], heading: str) -> str:
    """A heading's section: its line to the next heading of the same or a higher level."""
    for start, line in enumerate(lines):
        hashes, _, title = line.partition(" ")
        if hashes and set(hashes) == {"#"} and title.strip() == heading:
            level = len(hashes)
            end = next((i for i in range(start + 1, len(lines)) if _level(lines[i]) in range(1, level + 1)), len(lines))
            return "\n".join(lines[start:end]).strip()
    raise RshellError(f"grammar.md has no section '{heading}'", "the help topics and references/grammar.md disagree")


def _level(line: str) -> int:
    hashes, space, _ = line.partition(" ")
    return len(hashes) if space and hashes and set(hashes) == {"#"} else 0
