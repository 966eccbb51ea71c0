"""Syntax highlighting of rshell lines, as a pygments RegexLexer.

Command and subcommand names come from the catalog, so a new command is highlighted
without touching this file. Highlighting is a hint only: the grammar package decides
what a line means; this lexer never rejects anything (unknown text is plain Text).
"""

from __future__ import annotations

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
)

from rshell.commands import catalog

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


_VALUE_RULES = [
    (r"'[^']*'?", String.Single),  # single quotes: nothing is substituted
    (r'"', String.Double, "dq"),
    (r"\{\{(?:(?!\}\}).)*(?:\}\}|$)", TEMPLATE),
    (r"\$(?:_|[A-Za-z_]\w*)(?:\.[\w-]+|\[[^\]\s]*\]?)*", VARIABLE),
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
            (r"([A-Za-z_]\w*)(\s*)(=)(?!=)", bygroups(VARIABLE, Whitespace, Operator)),
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
            (r"([A-Za-z_][\w.-]*)(=)", bygroups(INPUT_KEY, Operator)),
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
            (r"\$(?:_|[A-Za-z_]\w*)(?:\.[\w-]+|\[[^\]\s]*\]?)*", VARIABLE),
            (r'[^"\\${]+', String.Double),
            (r"[${]", String.Double),
        ],
    }
