"""The lexer: POSIX words with positions, operators, comments, continuation, `!cmd`."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rshell.errors import ParseError
from rshell.grammar.lexer import Word, is_complete, partial_words, quote, tokenize
from rshell.grammar.templates import expand


def values(text: str) -> list[str]:
    """Token stream as strings: word values, and operators by kind."""
    return [t.word.value if t.word is not None else t.kind for t in tokenize(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("run owner/model prompt=hi", ["run", "owner/model", "prompt=hi"]),
        ("  spaced\tout  ", ["spaced", "out"]),
        ("'single quoted' x", ["single quoted", "x"]),
        ('"double quoted" x', ["double quoted", "x"]),
        (r"back\ slash", ["back slash"]),
        ("a'b'\"c\"d", ["abcd"]),
        ('prompt="a red fox"', ["prompt=a red fox"]),
        ("''", [""]),
        ('""', [""]),
        ("x '' y", ["x", "", "y"]),
        (r'"a \"q\" \\ \$ \x"', ['a "q" \\ $ \\x']),
        (r"'no \escape in single'", [r"no \escape in single"]),
        ("'it'\\''s'", ["it's"]),
        ("a;b", ["a", ";", "b"]),
        ("a | b", ["a", "|", "b"]),
        ("a\nb", ["a", "newline", "b"]),
        ("'a;b|c'", ["a;b|c"]),
        ('"a;b|c"', ["a;b|c"]),
        (r"a\;b", ["a;b"]),
        ("a # comment ; not | operators", ["a"]),
        ("# whole line\nb", ["newline", "b"]),
        ("a#b", ["a#b"]),
        ("'#'x", ["#x"]),
        ("a;#c\nb", ["a", ";", "newline", "b"]),
        ("run m \\\n  width=3", ["run", "m", "width=3"]),
        ("ab\\\ncd", ["abcd"]),
        ('"ab\\\ncd"', ["abcd"]),
        ("'ab\\\ncd'", ["ab\\\ncd"]),
        ("'multi\nline'", ["multi\nline"]),
        ('x={{ a.b["c d"] }}; y', ['x={{ a.b["c d"] }}', ";", "y"]),
        ('"{{ _.urls["get"] }}"', ['{{ _.urls["get"] }}']),
        ("{{ a | b ; c # d }}", ["{{ a | b ; c # d }}"]),
        ("a & b > c < d", ["a", "&", "b", ">", "c", "<", "d"]),
        ("!ls -l | wc; echo 'x", ["!ls -l | wc; echo 'x"]),
        ("a | !jq .output | b\nc", ["a", "|", "!jq .output | b", "newline", "c"]),
        ("x = !echo hi", ["x", "=", "!echo hi"]),
        ("x= !echo hi", ["x=", "!echo hi"]),
        ("run !notsystem", ["run", "!notsystem"]),
        ("'!quoted' a|b", ["!quoted", "a", "|", "b"]),
        ("!echo a \\\n b", ["!echo a  b"]),
        ("", []),
        ("   \n\n", ["newline", "newline"]),
    ],
)
def test_tokenize_values(text: str, expected: list[str]) -> None:
    assert values(text) == expected


def test_word_positions_cover_quotes() -> None:
    text = "run  'a b'\"c\" x"
    words = [t.word for t in tokenize(text)]
    assert [(w.start, w.end) for w in words] == [(0, 3), (5, 13), (14, 15)]
    assert text[words[1].start : words[1].end] == "'a b'\"c\""


def test_operator_positions() -> None:
    tokens = tokenize("a | b;c\nd")
    assert [(t.kind, t.pos) for t in tokens if t.word is None] == [("|", 2), (";", 5), ("newline", 7)]
    assert all(t.pos == t.word.start for t in tokens if t.word is not None)


@pytest.mark.parametrize(
    "text, literal",
    [
        ("plain", ()),
        ("'$x'", ((0, 2),)),
        ("a'$x'b", ((1, 3),)),
        (r"\$x", ((0, 1),)),
        (r'"\$x $y"', ((0, 1),)),
        ("'a'\\b'c'", ((0, 3),)),  # adjacent literal pieces merge into one span
        ('"$x"', ()),
        ("!cmd $x", ((0, 7),)),
    ],
)
def test_literal_spans(text: str, literal: tuple[tuple[int, int], ...]) -> None:
    (token,) = tokenize(text)
    assert token.word is not None and token.word.literal == literal


def test_dollar_in_single_quotes_is_not_substituted() -> None:
    (token,) = tokenize("pre'$name'\"$name\"")
    assert token.word is not None
    assert expand(token.word, lambda name: "V") == "pre$nameV"


@pytest.mark.parametrize(
    "text, message, column, line",
    [
        ("run 'open", "unclosed single quote", 4, "run 'open"),
        ('a "open', "unclosed double quote", 2, 'a "open'),
        ('ok\nx = run "a', "unclosed double quote", 8, 'x = run "a'),
        ("a || b", "unexpected '||'", 2, "a || b"),
        ("x={{ .output", "unclosed '{{'", 2, "x={{ .output"),
        ("a \\", "ends with '\\'", 2, "a \\"),
        ("!echo \\", "ends with '\\'", 6, "!echo \\"),
    ],
)
def test_tokenize_errors_point_at_the_column(text: str, message: str, column: int, line: str) -> None:
    with pytest.raises(ParseError) as caught:
        tokenize(text)
    assert message in caught.value.message
    assert caught.value.column == column
    assert caught.value.line == line
    assert f"(column {column + 1})" in caught.value.message


def test_error_carries_the_line_number() -> None:
    with pytest.raises(ParseError) as caught:
        tokenize("a\nb\nc 'x")
    assert caught.value.line_no == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text, complete",
    [
        ("run m prompt=hi", True),
        ("run m prompt='open", False),
        ('run m prompt="open', False),
        ("run m \\", False),
        ("run m \\\\", True),
        ("run m image={{ x.out", False),
        ("run m image={{ x.out }}", True),
        ("run m # it's a comment \\", True),
        ("'closed\nacross lines'", True),
        ("!sh -c 'unbalanced", True),
        ("", True),
        ("a || b", True),  # a syntax error, but no more lines would fix it
    ],
)
def test_is_complete(text: str, complete: bool) -> None:
    assert is_complete(text) is complete


def test_partial_words_after_blank_gets_empty_word() -> None:
    words = partial_words("run owner/model ")
    assert [w.value for w in words] == ["run", "owner/model", ""]
    assert words[-1] == Word("", 16, 16)


def test_partial_words_in_the_middle_of_a_word() -> None:
    words = partial_words("run own")
    assert [w.value for w in words] == ["run", "own"]
    assert (words[-1].start, words[-1].end) == (4, 7)


def test_partial_words_open_quote() -> None:
    words = partial_words('run m prompt="a red')
    assert words[-1].value == "prompt=a red"
    assert words[-1].open_quote == '"'
    assert words[-1].start == 6 and words[-1].end == len('run m prompt="a red')
    assert partial_words("x 'it")[-1].open_quote == "'"


def test_partial_words_only_the_current_stage() -> None:
    assert [w.value for w in partial_words("a b; c d | e f")] == ["e", "f"]
    assert [w.value for w in partial_words("a b\nc")] == ["c"]
    assert partial_words("a b |") == []
    assert [w.value for w in partial_words("a b | ")] == [""]
    assert [w.value for w in partial_words("'a;b' c")] == ["a;b", "c"]


def test_partial_words_open_template_and_comment() -> None:
    words = partial_words("run m image={{ img.out")
    assert words[-1].value == "image={{ img.out" and words[-1].open_quote is None
    comment = partial_words("run m # note")
    assert [w.value for w in comment] == ["run", "m", ""] and comment[-1].open_quote == "#"


def test_partial_words_after_continuation() -> None:
    assert [w.value for w in partial_words("run m \\\n")] == ["run", "m", ""]


def test_partial_words_never_raises_on_errors() -> None:
    assert [w.value for w in partial_words("a || b")] == ["b"]
    assert [w.value for w in partial_words("a \\")] == ["a", ""]


@pytest.mark.parametrize(
    "value, quoted",
    [
        ("owner/model", "owner/model"),
        ("prompt=hi", "prompt=hi"),
        ("", "''"),
        ("a b", "'a b'"),
        ("it's", "'it'\\''s'"),
        ("$x", "'$x'"),
        ("{{x}}", "'{{x}}'"),
        ("#c", "'#c'"),
        ("!x", "'!x'"),
    ],
)
def test_quote(value: str, quoted: str) -> None:
    assert quote(value) == quoted


# -- properties ------------------------------------------------------------------------

_ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=60) | st.text(
    alphabet=" \t\n'\"\\;|#!{}$=ab", max_size=40
)


@settings(max_examples=400, deadline=None)
@given(_ANY_TEXT)
def test_tokenize_raises_only_parse_error(text: str) -> None:
    try:
        tokens = tokenize(text)
    except ParseError as error:
        assert 0 <= error.column <= len(text)
        return
    for token in tokens:
        assert token.kind in ("word", ";", "|", "newline")
        assert 0 <= token.pos <= len(text)
        if token.word is not None:
            assert token.word.start < token.word.end <= len(text)
            for a, b in token.word.literal:
                assert 0 <= a < b <= len(token.word.value)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=60))
def test_quote_round_trips(value: str) -> None:
    (token,) = tokenize(quote(value))
    assert token.kind == "word" and token.word is not None
    assert token.word.value == value


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=20), min_size=1, max_size=6))
def test_quoted_words_round_trip_as_a_line_without_substitution(items: list[str]) -> None:
    line = " ".join(quote(item) for item in items)
    words = [t.word for t in tokenize(line)]
    assert [w.value for w in words if w is not None] == items

    def no_lookup(name: str | None) -> str:
        raise AssertionError(f"quoted text substituted {name!r}")

    assert [expand(w, no_lookup) for w in words if w is not None] == items


@settings(max_examples=400, deadline=None)
@given(_ANY_TEXT)
def test_partial_words_never_raises(text: str) -> None:
    words = partial_words(text)
    assert all(isinstance(w, Word) for w in words)
    if words:
        assert words[-1].end <= len(text)


@settings(max_examples=300, deadline=None)
@given(_ANY_TEXT)
def test_unclosed_quote_means_incomplete(text: str) -> None:
    try:
        tokenize(text)
    except ParseError as error:
        if "unclosed" in error.message or "ends with" in error.message:
            assert not is_complete(text)
        return
    assert is_complete(text)


def test_windows_line_endings() -> None:
    assert values("run m \\\r\n  w=1\r\nb") == ["run", "m", "w=1", "newline", "b"]
    assert values('"a\\\r\nb"') == ["ab"]
