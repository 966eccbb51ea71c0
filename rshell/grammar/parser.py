"""Statements from tokens: `NAME =` bindings, `|` pipelines and `!cmd` stages.

The parser only shapes words; it does not know commands, so `replicate run …` keeps
its leading `replicate` (the catalog drops it) and alias expansion happens later.
"""

from __future__ import annotations

import msgspec

from rshell.errors import QUOTED_WIDTH
from rshell.grammar.lexer import NUMBERED, Token, Word, error_at, is_name, split_binding, tokenize
from rshell.text import one_line

_NAME_RULE = "a name is unquoted letters, digits and _, not starting with a digit"


class CommandNode(msgspec.Struct):
    words: list[Word]
    system: str | None = None  # for a `!cmd args` stage: the raw text after `!`, for /bin/sh


class Statement(msgspec.Struct):
    target: str | None  # NAME of `NAME = command …`
    pipeline: list[CommandNode]
    text: str  # the statement's source text, stripped (what `save` writes)
    line: int  # 1-based line of the script where it starts


def parse_script(text: str) -> list[Statement]:
    """Every statement of a script, in order; ParseError with column and line on bad syntax."""
    statements = []
    for group in _statement_tokens(tokenize(text)):
        statements.append(_statement(text, group))
    return statements


def _statement_tokens(tokens: list[Token]) -> list[list[Token]]:
    """Tokens split at `;` and newlines; empty statements (blank lines, `;;`) dropped."""
    groups: list[list[Token]] = [[]]
    for token in tokens:
        if token.kind in (";", "newline"):
            groups.append([])
        else:
            groups[-1].append(token)
    return [g for g in groups if g]


def _statement(text: str, tokens: list[Token]) -> Statement:
    stages, pipes = _stages(tokens)
    target, stages[0] = _assignment(text, stages[0], pipes)
    for index, words in enumerate(stages):
        if not words:
            _empty_stage(text, pipes, index)
    start = tokens[0].pos
    last = tokens[-1]
    end = last.word.end if last.word is not None else last.pos + 1
    nodes = [_node(text, words) for words in stages]
    return Statement(target, nodes, text[start:end].strip(), text.count("\n", 0, start) + 1)


def _stages(tokens: list[Token]) -> tuple[list[list[Word]], list[int]]:
    """Words per pipeline stage, and the offsets of the `|` between them."""
    stages: list[list[Word]] = [[]]
    pipes: list[int] = []
    for token in tokens:
        if token.kind == "|":
            stages.append([])
            pipes.append(token.pos)
        elif token.word is not None:
            stages[-1].append(token.word)
    return stages, pipes


def _empty_stage(text: str, pipes: list[int], index: int) -> None:
    """Raise for the empty stage `index` (before pipe `index`, or after the last pipe)."""
    if index < len(pipes):
        raise error_at(text, pipes[index], "empty command before '|'")
    raise error_at(text, pipes[-1], "nothing after '|' (a pipe needs a command on its right)")


def _assignment(text: str, words: list[Word], pipes: list[int]) -> tuple[str | None, list[Word]]:
    """Split `NAME = cmd …` or `NAME= cmd …` into the name and the command's words."""
    name, rest, eq_end = split_binding(text, words)
    if name is None:
        return None, words
    if not is_name(name):
        raise error_at(text, words[0].start, f"bad name {one_line(name, QUOTED_WIDTH)!r} before '=' ({_NAME_RULE})")
    if name == "_":
        raise error_at(text, words[0].start, "'_' is always the last result; bind to another name")
    if NUMBERED.fullmatch(name):
        raise error_at(
            text, words[0].start, f"'{name}' is a numbered result (`history` shows them); bind to another name"
        )
    if not rest and not pipes:
        raise error_at(text, eq_end, f"'{name} =' needs a command to bind (e.g. {name} = run owner/model …)")
    return name, rest


def _node(text: str, words: list[Word]) -> CommandNode:
    """A stage; a first word the lexer took raw from an unquoted `!` is a system command."""
    first = words[0]
    if text[first.start : first.start + 1] == "!" and first.value.startswith("!"):
        command = first.value[1:].strip()
        if not command:
            raise error_at(text, first.start, "'!' needs a command after it (e.g. !jq .output)")
        return CommandNode([first], system=command)
    return CommandNode(words)
