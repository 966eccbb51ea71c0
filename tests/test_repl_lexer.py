"""The REPL's pygments lexer: what each part of a line is highlighted as."""

from __future__ import annotations

from pygments.token import Comment, Keyword, Name, Number, Operator, String, Text, Token

from rshell.commands import catalog
from rshell.repl.lexer import COMMAND, FILE, FLAG, INPUT_KEY, MODEL, SHELL, SUBCOMMAND, TEMPLATE, VARIABLE, RshellLexer


def lex(text: str) -> list[tuple[object, str]]:
    return [(t, v) for t, v in RshellLexer().get_tokens(text) if v.strip()]


def test_sample_line_tokens() -> None:
    line = 'x = run rshell/echo text="hi {{y.output}} $z" n=3 img=@cat.png --stream # note'
    assert lex(line) == [
        (VARIABLE, "x"),
        (Operator, "="),
        (COMMAND, "run"),
        (MODEL, "rshell/echo"),
        (INPUT_KEY, "text"),
        (Operator, "="),
        (String.Double, '"'),
        (String.Double, "hi "),
        (TEMPLATE, "{{y.output}}"),
        (VARIABLE, "$z"),
        (String.Double, '"'),
        (INPUT_KEY, "n"),
        (Operator, "="),
        (Number, "3"),
        (INPUT_KEY, "img"),
        (Operator, "="),
        (FILE, "@cat.png"),
        (FLAG, "--stream"),
        (Comment.Single, "# note"),
    ]


def test_group_and_subcommand_then_pipe_to_shell() -> None:
    tokens = lex("model schema owner/m:abc | !jq .output; show $x.output[0]")
    assert tokens[:3] == [(COMMAND, "model"), (SUBCOMMAND, "schema"), (MODEL, "owner/m:abc")]
    assert (Operator, "!") in tokens and (SHELL, "jq .output") in tokens
    assert tokens[-2:] == [(COMMAND, "show"), (VARIABLE, "$x.output[0]")]


def test_single_quotes_are_not_substituted() -> None:
    assert lex("run a/b p='{{x}} $y'")[-1] == (String.Single, "'{{x}} $y'")


def test_every_catalog_command_is_a_keyword() -> None:
    for command in catalog.COMMANDS:
        tokens = lex(" ".join(command.path))
        assert tokens[0] == (COMMAND, command.path[0]), command.name
        if len(command.path) == 2:
            assert tokens[1] == (SUBCOMMAND, command.path[1]), command.name


def test_aliases_and_replicate_prefix() -> None:
    assert lex("replicate p list")[:3] == [(COMMAND, "replicate"), (COMMAND, "p"), (SUBCOMMAND, "list")]
    assert lex("stream a/b")[0] == (COMMAND, "stream")


def test_unknown_command_and_command_word_later_are_plain() -> None:
    tokens = lex("frobnicate run")
    assert tokens == [(Text, "frobnicate"), (Text, "run")]


def test_continuation_and_multiline_script() -> None:
    tokens = lex("run a/b \\\n  x=1\nvars")
    assert (String.Escape, "\\\n") in [(t, v) for t, v in RshellLexer().get_tokens("run a/b \\\n  x=1\nvars")]
    assert tokens[-1] == (COMMAND, "vars")
    assert (INPUT_KEY, "x") in tokens


def test_hash_inside_a_word_is_not_a_comment() -> None:
    tokens = lex("run a/b tag=a#b")
    assert all(t not in Comment for t, _ in tokens)


def test_nothing_is_an_error_token() -> None:
    for text in ['run "unterminated {{', "}}}{{ $ @ \\", "x = = ;;; ||", "run a/b k='open"]:
        assert all(t is not Token.Error for t, _ in RshellLexer().get_tokens(text)), text


def test_constants_and_booleans() -> None:
    tokens = lex("run a/b flag=true n=-1.5e3")
    assert (Keyword.Constant, "true") in tokens and (Number, "-1.5e3") in tokens
    assert (Name.Tag, "flag") in tokens


def test_names_and_keys_are_highlighted_by_the_rules_the_executor_reads() -> None:
    """`$é` is a dollar sign to templates (NAME is ASCII), so it is no variable here
    either; `a.b-c=1` is an input key to the parser, so it is one here too."""
    from rshell.grammar.lexer import Word
    from rshell.grammar.templates import references

    assert (VARIABLE, "$é") not in lex("show $é")
    assert not references(Word("$é", 0, 3))
    assert (VARIABLE, "$_x") in lex("show $_x")
    assert lex("run a/b a.b-c=1")[2] == (INPUT_KEY, "a.b-c")
    assert lex("é = run a/b")[0] != (VARIABLE, "é")
