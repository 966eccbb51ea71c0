"""Properties of the lexer and templates (issue 9 item 6), checked with hypothesis.

Each example has a time bound (hypothesis' deadline, generous: a linear scan of the
largest example takes milliseconds, the old quadratic one took seconds); the linear
growth itself is measured as a ratio in tests/benchmarks/test_grammar_bench.py.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from rshell.errors import ParseError
from rshell.grammar.lexer import Word, quote, tokenize
from rshell.grammar.templates import _IDENT, _segments, expand, references

BOUNDED = settings(deadline=timedelta(seconds=2), max_examples=150)
PIECES = st.sampled_from(["$", "$$", "$5", "$x", "$x.a", "$x[0]", "$_", " ", "a", ".", "[", "]", "'", '"', "\\", "é"])
WORDS = st.lists(st.text(min_size=0, max_size=30), min_size=1, max_size=8)


@BOUNDED
@given(WORDS)
def test_quote_then_tokenize_gives_the_words_back(words: list[str]) -> None:
    text = " ".join(quote(w) for w in words)
    assert [t.word.value for t in tokenize(text) if t.word is not None] == words


@BOUNDED
@given(st.integers(0, 20_000), st.sampled_from(["", "x", "costs ", " ", "5 ", "-"]))
def test_many_dollar_signs_are_plain_text(count: int, filler: str) -> None:
    value = (filler + "$") * count + "5"
    (token,) = [t for t in tokenize(quote(value)) if t.word is not None]
    assert token.word is not None and token.word.value == value
    assert expand(token.word, _no_lookup) == value  # quoted: nothing substituted
    plain = Word(value.replace("x", "").replace("costs", "5"), 0, 0)
    assert expand(plain, _no_lookup) == plain.value  # unquoted, but no `$name` in it either


@BOUNDED
@given(st.lists(PIECES, max_size=60), st.lists(st.tuples(st.integers(0, 80), st.integers(0, 10)), max_size=4))
def test_references_match_the_straightforward_scan(pieces: list[str], spans: list[tuple[int, int]]) -> None:
    value = "".join(pieces)
    literal = tuple(sorted({(a, min(len(value), a + n)) for a, n in spans if a < min(len(value), a + n)}))
    literal = _disjoint(literal)
    word = Word(value, 0, len(value), literal)
    try:
        found = [(r.name, r.path, r.text) for r in references(word)]
    except ParseError:
        return
    assert found == _reference_scan(value, literal)


def _disjoint(spans: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for a, b in spans:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return tuple(out)


def _reference_scan(value: str, spans: tuple[tuple[int, int], ...]) -> list[tuple[str, tuple, str]]:
    """`$name.path` the obvious (quadratic) way: cut the value at the next literal."""
    literal = bytearray(len(value) + 1)
    for a, b in spans:
        literal[a:b] = b"\x01" * (b - a)
    found, i = [], 0
    while i < len(value):
        if not literal[i] and value[i] == "$" and i + 1 < len(value) and not literal[i + 1] and value[i + 1] != "{":
            run_end = i + 1
            while run_end < len(value) and not literal[run_end]:
                run_end += 1
            head = value[:run_end]
            match = _IDENT.match(head, i + 1)
            if match:
                path, end = _segments(head, match.end(), strict=False)
                found.append((match.group(), tuple(path), value[i:end]))
                i = end
                continue
        i += 1
    return found


def _no_lookup(name: str | None) -> object:
    raise AssertionError(f"nothing should be looked up, asked for {name}")
