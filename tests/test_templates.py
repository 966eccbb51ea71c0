"""Templates: parsing refs, walking paths, expanding words, and the exact error messages."""

from __future__ import annotations

import re
from typing import Any

import pytest

from rshell.errors import ParseError, UsageError
from rshell.grammar.lexer import Word, tokenize
from rshell.grammar.templates import Ref, expand, parse_ref, references, render_path, resolve

PREDICTION = {
    "id": "p1",
    "status": "succeeded",
    "output": ["https://x/a.png", "https://x/b.png"],
}
VALUES: dict[str | None, Any] = {
    None: {"output": ["piped.png"], "status": "succeeded"},
    "_": {"id": "last", "urls": {"get": "https://api/p/last", "stream": None}, "metrics": {"predict-time": 1.5}},
    "img": PREDICTION,
    "x": {"id": "p2", "output": ["o"], "status": "succeeded"},
    "text": "hello",
    "n": 42,
    "nested": {"a": [{"b": [10, 20, 30]}], "flag": True, "none": None},
}


def lookup(name: str | None) -> Any:
    if name not in VALUES:
        raise UsageError(f"undefined variable '{name}'")
    return VALUES[name]


def word(text: str) -> Word:
    (token,) = tokenize(text)
    assert token.word is not None
    return token.word


@pytest.mark.parametrize(
    "expr, name, path",
    [
        (".output[0]", None, ("output", 0)),
        (".", None, ()),
        (".[1]", None, (1,)),
        ("img.output[0]", "img", ("output", 0)),
        ("_", "_", ()),
        ('_.urls["get"]', "_", ("urls", "get")),
        ("_.urls['get']", "_", ("urls", "get")),
        ("x.output[-1]", "x", ("output", -1)),
        ('  nested.a[0]["b"][ -2 ]  ', "nested", ("a", 0, "b", -2)),
        ('_["predict-time"]', "_", ("predict-time",)),
        ("_.urls[get]", "_", ("urls", "get")),
        (r'_["a\"b"]', "_", ('a"b',)),
    ],
)
def test_parse_ref(expr: str, name: str | None, path: tuple) -> None:
    ref = parse_ref(expr)
    assert (ref.name, ref.path, ref.text) == (name, path, expr.strip())


@pytest.mark.parametrize(
    "expr, message, column",
    [
        ("", "bad template expression '': it is empty", 0),
        ("img.", "bad template expression 'img.': expected a field name after '.'", 4),
        ("img[-x]", "expected an index like [0]", 4),
        ("img[x y]", "expected ']'", 6),
        ("img[0", "expected ']'", 5),
        ('img["a]', "unclosed quote in key", 4),
        ("1abc", "it must start with '.', '_' or a variable name", 0),
        ("img output", "unexpected ' '", 3),
        ("img.output[0]()", "unexpected '('", 13),
        ("__import__('os').system('x')", "unexpected '('", 10),
        ("  img..a", "expected a field name after '.'", 6),
    ],
)
def test_parse_ref_errors(expr: str, message: str, column: int) -> None:
    with pytest.raises(ParseError) as caught:
        parse_ref(expr)
    assert message in caught.value.message
    assert caught.value.column == column


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("img.output[0]", "https://x/a.png"),
        ("img.output[-1]", "https://x/b.png"),
        ("img.output[-2]", "https://x/a.png"),
        (".output[0]", "piped.png"),
        ('_.urls["get"]', "https://api/p/last"),
        ('_.metrics["predict-time"]', 1.5),
        ("nested.a[0].b[-1]", 30),
        ("nested.none", None),
        ("img", PREDICTION),
    ],
)
def test_resolve(expr: str, expected: Any) -> None:
    assert resolve(parse_ref(expr), lookup) == expected


@pytest.mark.parametrize(
    "expr, message",
    [
        ("img.output[3]", "bad path img.output[3]: index 3 out of range (output has 2 items)"),
        ("img.output[-3]", "bad path img.output[-3]: index -3 out of range (output has 2 items)"),
        ("x.output[1]", "bad path x.output[1]: index 1 out of range (output has 1 item)"),
        ("x.foo", "bad path x.foo: no key 'foo' (keys: id, output, status)"),
        ("x.output.y", "bad path x.output.y: output is a list, not an object"),
        ("x.id[0]", "bad path x.id[0]: id is a string, not a list"),
        ("img[0]", "bad path img[0]: img is an object, not a list"),
        ("text.a", "bad path text.a: text is a string, not an object"),
        ("n[0]", "bad path n[0]: n is a number, not a list"),
        ("nested.none.x", "bad path nested.none.x: none is null, not an object"),
        ("nested.flag.x", "bad path nested.flag.x: flag is a boolean, not an object"),
        ("nested.a[0].b[5]", "bad path nested.a[0].b[5]: index 5 out of range (b has 3 items)"),
        ("nested.a[0][1]", "bad path nested.a[0][1]: a[0] is an object, not a list"),
        ('_.urls["nope"]', "bad path _.urls.nope: no key 'nope' (keys: get, stream)"),
        (".output[2]", "bad path .output[2]: index 2 out of range (output has 1 item)"),
        (".[0]", "bad path .[0]: the piped input is an object, not a list"),
    ],
)
def test_resolve_error_messages(expr: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        resolve(parse_ref(expr), lookup)
    assert caught.value.message == message


def test_resolve_hint_says_how_to_look() -> None:
    with pytest.raises(UsageError) as caught:
        resolve(parse_ref("img.output[3]"), lookup)
    assert caught.value.hint == "`show img.output` prints what is there"


def test_undefined_name_comes_from_lookup() -> None:
    with pytest.raises(UsageError, match="undefined variable 'nope'"):
        resolve(parse_ref("nope.output"), lookup)


def test_many_keys_are_cut_short() -> None:
    many = {f"k{i:02}": i for i in range(30)}
    with pytest.raises(UsageError) as caught:
        resolve(Ref("m", ("zz",), "m.zz"), lambda name: many)
    assert caught.value.message.endswith("k19, … (10 more))")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("image={{.output[0]}}", "image=piped.png"),
        ("image={{ img.output[1] }}", "image=https://x/b.png"),
        ("image=$img.output[0]", "image=https://x/a.png"),
        ('u=$_.urls["get"]', "u=https://api/p/last"),  # reaches expand as [get]
        ("u='$_'.urls", "u=$_.urls"),
        ("$x.id-$n", "p2-42"),
        ("end.$x.id.", "end.p2."),  # a dot not followed by a name ends the path
        ("${x.id}.png", "p2.png"),
        ("s=$text!", "s=hello!"),
        ("v=$nested.a[0].b", "v=[10,20,30]"),
        ("o={{ nested.a[0] }}", 'o={"b":[10,20,30]}'),
        ("'f={{nested.flag}} z={{nested.none}}'", "f={{nested.flag}} z={{nested.none}}"),
        ('"f={{nested.flag}} z={{nested.none}}"', "f=true z=null"),
        ("'price=$5 $ $$ $.x $-'", "price=$5 $ $$ $.x $-"),
        ('"price=$5 $ $$ $.x $-"', "price=$5 $ $$ $.x $-"),
        ("'$img {{img}}'", "$img {{img}}"),
        ("\\$img", "$img"),
        ("\\{{img}}", "{{img}}"),
        ('"$text {{ text }}"', "hello hello"),
        ("$text'.upper'", "hello.upper"),  # the quoted part is not a path
        ("$x[9", '{"id":"p2","output":["o"],"status":"succeeded"}[9'),
        ("plain", "plain"),
    ],
)
def test_expand(text: str, expected: str) -> None:
    assert expand(word(text), lookup) == expected


def test_expand_on_constructed_word() -> None:
    # Words built by hand (run_argv) have no literal spans: everything is substituted.
    assert expand(Word("a=$n", 0, 4), lookup) == "a=42"


@pytest.mark.parametrize(
    "text, message",
    [
        ("image={{ img.output[0]", "unclosed '{{'"),
        ("${img.id", "unclosed '${'"),
        ("a={{ 1bad }}", "bad template expression '1bad'"),
        ("a={{}}", "it is empty"),
    ],
)
def test_expand_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=re.escape(message)):
        expand(Word(text, 0, len(text)), lookup)


def test_expand_error_column_points_into_the_word() -> None:
    with pytest.raises(ParseError) as caught:
        expand(Word("a={{ 1bad }}", 0, 12), lookup)
    assert caught.value.column == 5 and caught.value.line == "a={{ 1bad }}"


def test_expand_path_errors_propagate() -> None:
    with pytest.raises(UsageError, match=r"bad path img.output\[7\]"):
        expand(word("image=$img.output[7]"), lookup)


def test_references() -> None:
    refs = references(word("a={{ .output[0] }}-$img.output[-1]-${_}-'$no'-{{x.id}}"))
    assert [(r.name, r.path, r.text) for r in refs] == [
        (None, ("output", 0), ".output[0]"),
        ("img", ("output", -1), "$img.output[-1]"),
        ("_", (), "${_}"),
        ("x", ("id",), "x.id"),
    ]
    assert references(word("'{{ x }} $y'")) == []


@pytest.mark.parametrize(
    "name, path, text",
    [
        ("img", ("output", 0), "img.output[0]"),
        (None, ("output",), ".output"),
        (None, (), "."),
        (None, (0,), ".[0]"),
        ("_", ("a b", -1), '_["a b"][-1]'),
    ],
)
def test_render_path(name: str | None, path: tuple, text: str) -> None:
    assert render_path(name, path) == text
    assert (parse_ref(text).name, parse_ref(text).path) == (name, path)
