"""User aliases (`alias sdxl='run stability-ai/sdxl'`): the first word becomes the alias text.

Expansion works on words, after parsing, so an alias can hold quoting (`alias
fox='run m prompt="a red fox"'`) but not `;` or `|`: it always stands for one command.
"""

from __future__ import annotations

from dataclasses import replace

from rshell.errors import UsageError
from rshell.grammar.lexer import Word, tokenize


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
            replace(word, start=first.start, end=first.end) for word in alias_words(first.value, aliases[first.value])
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
