"""The parser: statements, `NAME =` bindings, pipelines, `!cmd` stages, and its errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rshell.errors import ParseError
from rshell.grammar.parser import Statement, parse_script


def shape(statement: Statement) -> tuple:
    """(target, [[word values] or ('!', system) per stage])."""
    stages = [
        ("!", node.system) if node.system is not None else [w.value for w in node.words] for node in statement.pipeline
    ]
    return statement.target, stages


@pytest.mark.parametrize(
    "text, expected",
    [
        ("run owner/model prompt=hi", [(None, [["run", "owner/model", "prompt=hi"]])]),
        ("replicate run m", [(None, [["replicate", "run", "m"]])]),
        ("img = run m prompt='a fox'", [("img", [["run", "m", "prompt=a fox"]])]),
        ("img= run m", [("img", [["run", "m"]])]),
        ("_x1 = model show a/b", [("_x1", [["model", "show", "a/b"]])]),
        ("a; b", [(None, [["a"]]), (None, [["b"]])]),
        ("a;;b;", [(None, [["a"]]), (None, [["b"]])]),
        ("a\n\n# comment\n  b # trailing\n", [(None, [["a"]]), (None, [["b"]])]),
        ("a | b c | d", [(None, [["a"], ["b", "c"], ["d"]])]),
        ("x = run m | run n image={{.output[0]}}", [("x", [["run", "m"], ["run", "n", "image={{.output[0]}}"]])]),
        ("run m | !jq -r '.output | .[0]'; echo", [(None, [["run", "m"], ("!", "jq -r '.output | .[0]'; echo")])]),
        ("!ls -la", [(None, [("!", "ls -la")])]),
        ("out = !date", [("out", [("!", "date")])]),
        ("run m \\\n  width=3 \\\n  height=4", [(None, [["run", "m", "width=3", "height=4"]])]),
        ("x '=' run", [(None, [["x", "=", "run"]])]),
        ("set separator :", [(None, [["set", "separator", ":"]])]),
        ("run m a=b=c", [(None, [["run", "m", "a=b=c"]])]),
        ("show x==y", [(None, [["show", "x==y"]])]),
        ("", []),
        ("# only a comment", []),
    ],
)
def test_parse_script_shapes(text: str, expected: list[tuple]) -> None:
    assert [shape(s) for s in parse_script(text)] == expected


def test_statement_text_and_line() -> None:
    script = "# header\nimg = run m prompt='a; b'  # note\n\n  a | b ; c\nrun m \\\n  w=1\n"
    statements = parse_script(script)
    assert [(s.text, s.line) for s in statements] == [
        ("img = run m prompt='a; b'", 2),
        ("a | b", 4),
        ("c", 4),
        ("run m \\\n  w=1", 5),
    ]


def test_system_stage_keeps_its_word_position() -> None:
    (statement,) = parse_script("run m | !jq .output")
    node = statement.pipeline[1]
    assert node.system == "jq .output"
    assert (node.words[0].start, node.words[0].end) == (8, 19)


def test_statement_text_reparses_to_the_same_shape() -> None:
    script = 'x = run m prompt="a \\"q\\"" seed=1 | !jq .\nrun \'a b\' c'
    first = parse_script(script)
    again = [s for text in (st.text for st in first) for s in parse_script(text)]
    assert [shape(s) for s in again] == [shape(s) for s in first]


@pytest.mark.parametrize(
    "text, message, column, line, line_no",
    [
        ("a | | b", "empty command before '|'", 4, "a | | b", 1),
        ("| a", "empty command before '|'", 0, "| a", 1),
        ("a |", "nothing after '|'", 2, "a |", 1),
        ("ok\nrun m |  \nb", "nothing after '|'", 6, "run m |  ", 2),
        ("x =", "'x =' needs a command", 3, "x =", 1),
        ("x=", "'x =' needs a command", 2, "x=", 1),
        ("x = ; run m", "'x =' needs a command", 3, "x = ; run m", 1),
        ("x = | run m", "empty command before '|'", 4, "x = | run m", 1),
        ("1x = run m", "bad name '1x'", 0, "1x = run m", 1),
        ("my-var = run m", "bad name 'my-var'", 0, "my-var = run m", 1),
        ("my-var= run m", "bad name 'my-var'", 0, "my-var= run m", 1),
        ("'x' = run m", "bad name \"'x'\"", 0, "'x' = run m", 1),
        ("_ = run m", "'_' is always the last result", 0, "_ = run m", 1),
        ("run 'x", "unclosed single quote", 4, "run 'x", 1),
        ('a\n  b "c', "unclosed double quote", 4, '  b "c', 2),
        ("a || b", "unexpected '||'", 2, "a || b", 1),
        ("run m | !", "'!' needs a command", 8, "run m | !", 1),
    ],
)
def test_parse_errors(text: str, message: str, column: int, line: str, line_no: int) -> None:
    with pytest.raises(ParseError) as caught:
        parse_script(text)
    error = caught.value
    assert message in error.message
    assert (error.column, error.line, error.line_no) == (column, line, line_no)  # type: ignore[attr-defined]
    assert error.hint == f"{line}\n{' ' * column}^"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=" \t\n'\"\\;|#!{}$=_ax1", max_size=40))
def test_parse_script_raises_only_parse_error(text: str) -> None:
    try:
        statements = parse_script(text)
    except ParseError as error:
        assert error.line_no >= 1  # type: ignore[attr-defined]
        return
    for statement in statements:
        assert statement.pipeline and all(node.words for node in statement.pipeline)
        assert statement.text and statement.line >= 1
