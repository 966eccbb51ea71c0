"""User aliases (`alias sdxl='run stability-ai/sdxl'`): the first word becomes the alias text.

Expansion works on words, after parsing, so an alias can hold quoting (`alias
fox='run m prompt="a red fox"'`) but not `;` or `|`: it always stands for one command.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import msgspec

from rshell.errors import UsageError
from rshell.grammar.lexer import Word, tokenize

# The official CLI's name, accepted before any command (the catalog's PREFIX).
_PREFIX = "replicate"


def expand_aliases(words: list[Word], aliases: dict[str, str]) -> list[Word]:
    """Replace the first word while it names an alias; each alias expands at most once.

    The new words point (start/end) at the original first word, so errors and
    completion still refer to what the user typed.
    """
    used: set[str] = set()
    while words and words[0].value in aliases and words[0].value not in used:
        first = words[0]
        used.add(first.value)
        replacement = [
            msgspec.structs.replace(word, start=first.start, end=first.end)
            for word in alias_words(first.value, aliases[first.value])
        ]
        words = replacement + list(words[1:])
    return list(words)


def alias_words(name: str, text: str) -> list[Word]:
    """The words of an alias's text; UsageError if it holds `;`, `|` or a newline."""
    tokens = tokenize(text)
    if any(token.kind != "word" for token in tokens):
        raise UsageError(
            f"alias '{name}' holds ';', '|' or a newline",
            "an alias stands for one command; use a script with `source` for more",
        )
    return [token.word for token in tokens if token.word is not None]


def check_alias_name(name: str) -> None:
    """UsageError when `name` is a built-in command's or group's name (or a spelling
    of one): such an alias would silently change what that command means."""
    from rshell.commands.catalog import PREFIX, command_words

    if name == PREFIX or name in command_words():
        raise UsageError(
            f"'{name}' is a built-in command name; an alias of that name would hide it",
            f"pick another name, e.g. alias my{name}='…'",
        )


def alias_used(words: list[Word], aliases: Mapping[str, str]) -> str | None:
    """The user alias a stage starts with (after an optional `replicate`), if any."""
    values = [word.value for word in words[:2]]
    if values and values[0] == _PREFIX:
        values = values[1:]
    return values[0] if values and values[0] in aliases else None


@contextmanager
def naming_alias(words: list[Word], aliases: Mapping[str, str]) -> Iterator[None]:
    """A usage error while reading a stage that starts with an alias names the alias:
    the words the user sees are not the words that were parsed."""
    try:
        yield
    except UsageError as error:
        name = alias_used(words, aliases)
        if name is None:
            raise
        raise error.located(f"in alias {name}='{aliases[name]}'") from None
