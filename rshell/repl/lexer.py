"""Syntax highlighting of rshell lines, as a pygments RegexLexer.

Command and subcommand names come from the catalog, so a new command is highlighted
without touching this file. Which words name the command is the resolver's decision
(`commands/resolver.py`, as the executor reads them), so a user alias is highlighted
as the command it runs. Highlighting is a hint only: this lexer never rejects
anything (unknown text is plain Text).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pygments.lexer import RegexLexer, bygroups, default, words
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
    _TokenType,
)

from rshell.commands import catalog
from rshell.commands.resolver import read_head
from rshell.grammar.lexer import KEY, NAME, partial_stages, split_binding

# Token types, named for what they mean in rshell (and styled by pygments' defaults).
COMMAND = Keyword
SUBCOMMAND = Keyword.Reserved
FLAG = Name.Attribute
INPUT_KEY = Name.Tag
FILE = String.Other
TEMPLATE = String.Interpol
VARIABLE = Name.Variable
MODEL = Name.Namespace
SHELL = Name.Builtin
ERROR_WORD = Text

_WORD_END = r"(?=[\s;|]|$)"


def _group_words() -> tuple[str, ...]:
    """Words that name a command group and so expect a subcommand next."""
    return tuple(sorted(catalog.GROUP_ALIASES, key=len, reverse=True))


def _single_words() -> tuple[str, ...]:
    """Top-level commands and command aliases (`run`, `help`, `vars`, …)."""
    names = set(catalog.TOP_LEVEL) | set(catalog.COMMAND_ALIASES)
    return tuple(sorted(names, key=len, reverse=True))


def _subcommand_words() -> tuple[str, ...]:
    names = {c.path[1] for c in catalog.COMMANDS if len(c.path) == 2}
    return tuple(sorted(names, key=len, reverse=True))


# `$name.path…` as templates read it: the name by the one identifier rule.
_VARIABLE = rf"\$(?:{NAME.pattern})(?:\.[\w-]+|\[[^\]\s]*\]?)*"
_VALUE_RULES = [
    (r"'[^']*'?", String.Single),  # single quotes: nothing is substituted
    (r'"', String.Double, "dq"),
    (r"\{\{(?:(?!\}\}).)*(?:\}\}|$)", TEMPLATE),
    (_VARIABLE, VARIABLE),
    (r"@[^\s;|]*", FILE),
    (r"\\.", String.Escape),
]


class RshellLexer(RegexLexer):
    """Commands, flags, input keys, values, @files, {{templates}}, $variables, strings,
    comments and `!` shell escapes of an rshell line (or a pasted script)."""

    name = "rshell"
    aliases = ["rshell", "rsh"]
    filenames = ["*.rsh"]

    tokens = {
        "root": [
            (r"\\\n", String.Escape),
            (r"\s+", Whitespace),
            (r"#.*?$", Comment.Single),
            (r";", Punctuation),
            (r"\|", Operator),
            (r"(replicate)(\s+)", bygroups(COMMAND, Whitespace)),
            # `NAME = ` / `NAME= `, as grammar.lexer.split_binding reads a binding
            (rf"({NAME.pattern})([ \t]*)(=)(?=\s|$)", bygroups(VARIABLE, Whitespace, Operator)),
            (r"(!)([^;|\n]*)", bygroups(Operator, SHELL)),
            (words(_group_words(), suffix=_WORD_END), COMMAND, "sub"),
            (words(_single_words(), suffix=_WORD_END), COMMAND, "args"),
            (r"[^\s;|#]+", ERROR_WORD, "args"),
        ],
        "sub": [
            (r"[ \t]+", Whitespace),
            (r"\\\n", String.Escape),
            (words(_subcommand_words(), suffix=_WORD_END), SUBCOMMAND, ("#pop", "args")),
            default(("#pop", "args")),
        ],
        "args": [
            (r"\\\n", String.Escape),
            (r"\n", Whitespace, "#pop"),
            (r";", Punctuation, "#pop"),
            (r"\|", Operator, "#pop"),
            (r"[ \t]+", Whitespace),
            (r"(?<![^\s;|])#.*?$", Comment.Single),
            (r"(--[A-Za-z][\w-]*)(=?)", bygroups(FLAG, Operator)),
            (r"-[A-Za-z]" + _WORD_END, FLAG),
            (rf"({KEY.pattern})(=)", bygroups(INPUT_KEY, Operator)),
            *_VALUE_RULES,
            (r"[\w.-]+/[\w.-]+(?::[\w.-]*)?" + _WORD_END, MODEL),
            (r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?" + _WORD_END, Number),
            (r"(?:true|false|null)" + _WORD_END, Keyword.Constant),
            (r"[^\s;|'\"$@{\\]+", Text),
            (r".", Text),
        ],
        "dq": [
            (r'"', String.Double, "#pop"),
            (r"\\.", String.Escape),
            (r"\{\{(?:(?!\}\}).)*(?:\}\}|$)", TEMPLATE),
            (_VARIABLE, VARIABLE),
            (r'[^"\\${]+', String.Double),
            (r"[${]", String.Double),
        ],
    }

    def get_tokens_unprocessed(self, text: str, stack: Any = ("root",)) -> Iterator[tuple[int, Any, str]]:
        """The regex lexer's tokens, with the words naming a command as the resolver says."""
        aliases_of: Callable[[], Mapping[str, str]] | None = self.options.get("aliases_of")
        decided = command_words(text, aliases_of() if aliases_of else {})
        for index, kind, value in super().get_tokens_unprocessed(text, stack):
            if index in decided and kind in _RETYPED:
                kind = decided[index]
            yield index, kind, value


_RETYPED = (COMMAND, SUBCOMMAND, ERROR_WORD)


def command_words(text: str, aliases: Mapping[str, str]) -> dict[int, _TokenType]:
    """Start offset → token type for the words of stages whose command the resolver
    finds: the words naming it are commands (the first) and subcommands, the rest are
    plain (so `run run` highlights one command). Other stages are left to the regexes."""
    found: dict[int, _TokenType] = {}
    for stage in partial_stages(text):
        words = split_binding(text, stage)[1]
        head = read_head(words, aliases)
        if head.command is None and head.group is None:
            continue
        rest = {id(w) for w in head.rest}
        named = next((i for i, w in enumerate(words) if id(w) in rest), len(words))
        first = 1 if words and words[0].value == catalog.PREFIX else 0  # `replicate run`: both commands
        found.update({w.start: COMMAND if i <= first else SUBCOMMAND for i, w in enumerate(words[:named])})
        found.update({w.start: ERROR_WORD for w in words[named:]})
    return found


def for_session(aliases_of: Callable[[], Mapping[str, str]]) -> type[RshellLexer]:
    """The lexer class prompt-toolkit instantiates, reading this session's aliases."""

    class SessionLexer(RshellLexer):
        def __init__(self, **options: Any) -> None:
            super().__init__(aliases_of=aliases_of, **options)

    return SessionLexer
