"""User aliases: the first word becomes the alias's words, with a loop guard."""

from __future__ import annotations

import pytest

from rshell.errors import ParseError, UsageError
from rshell.grammar.aliases import expand_aliases
from rshell.grammar.lexer import Word, tokenize
from rshell.grammar.templates import expand


def words(text: str) -> list[Word]:
    return [t.word for t in tokenize(text) if t.word is not None]


def values(result: list[Word]) -> list[str]:
    return [w.value for w in result]


def test_alias_replaces_first_word() -> None:
    result = expand_aliases(words("sdxl prompt=hi"), {"sdxl": "run stability-ai/sdxl"})
    assert values(result) == ["run", "stability-ai/sdxl", "prompt=hi"]


def test_alias_words_point_at_the_original_first_word() -> None:
    result = expand_aliases(words("  sdxl prompt=hi"), {"sdxl": "run stability-ai/sdxl"})
    assert [(w.start, w.end) for w in result] == [(2, 6), (2, 6), (7, 16)]


def test_alias_text_keeps_its_quoting() -> None:
    result = expand_aliases(words("fox seed=1"), {"fox": "run m prompt='a $red fox' \"n=$n\""})
    assert values(result) == ["run", "m", "prompt=a $red fox", "n=$n", "seed=1"]
    assert expand(result[2], lambda name: "X") == "prompt=a $red fox"  # single quotes stay literal
    assert expand(result[3], lambda name: "7") == "n=7"


def test_aliases_chain() -> None:
    aliases = {"fast": "sd --no-wait", "sd": "run stability-ai/sdxl"}
    assert values(expand_aliases(words("fast x=1"), aliases)) == ["run", "stability-ai/sdxl", "--no-wait", "x=1"]


@pytest.mark.parametrize(
    "aliases, expected",
    [
        ({"ls": "ls -l"}, ["ls", "-l", "x"]),
        ({"a": "b 1", "b": "a 2"}, ["a", "2", "1", "x"]),
        ({"run": "run --stream"}, ["run", "--stream", "x"]),
    ],
)
def test_an_alias_expands_once(aliases: dict[str, str], expected: list[str]) -> None:
    first = next(iter(aliases))
    assert values(expand_aliases(words(f"{first} x"), aliases)) == expected


def test_only_the_first_word_expands() -> None:
    assert values(expand_aliases(words("run sdxl"), {"sdxl": "x y"})) == ["run", "sdxl"]


def test_no_alias_no_change() -> None:
    original = words("run m a=1")
    assert expand_aliases(original, {"other": "x"}) == original
    assert expand_aliases([], {"a": "b"}) == []


def test_empty_alias_drops_the_word() -> None:
    assert values(expand_aliases(words("nothing run m"), {"nothing": ""})) == ["run", "m"]


def test_alias_with_operators_is_refused() -> None:
    with pytest.raises(UsageError, match="alias 'two' holds ';', '|' or a newline"):
        expand_aliases(words("two"), {"two": "run a; run b"})
    with pytest.raises(UsageError):
        expand_aliases(words("p"), {"p": "run a | run b"})


def test_alias_with_bad_quoting_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="unclosed single quote"):
        expand_aliases(words("bad"), {"bad": "run 'x"})
