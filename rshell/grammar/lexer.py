"""POSIX-style words with positions, plus rshell's few operators.

One scanner serves three callers: `tokenize` (strict, for running text), `is_complete`
(the REPL asks whether to read another line) and `partial_words` (completion, which
must never fail on half-typed text). Keeping them on one scanner means the REPL,
completion and the executor always agree on where a word begins and ends.

Rules beyond POSIX quoting: `{{ … }}` is one unit (spaces, quotes, `;` and `|` inside
it belong to the template); a word starting with `!` in command position takes the
rest of the line raw (it is a /bin/sh command line); `;` `|` and newline are the only
operators (`&`, `<`, `>` are ordinary characters).
"""

from __future__ import annotations

import re

import msgspec

from rshell.errors import ParseError

BLANKS = " \t\r"
OPERATORS = ";|"
# Characters `quote` leaves bare: they mean nothing special to the lexer anywhere in a word.
_SAFE = re.compile(r"[A-Za-z0-9_@%+=:,./-]+\Z")
# The one identifier rule: variable and alias names, template fields.
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# The one input-key rule: the `key` of `key=value` (a name that may also hold `.` and `-`).
KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
# Characters a backslash escapes inside double quotes (POSIX), plus newline (continuation).
_DQ_ESCAPES = '$`"\\\n'


class Word(msgspec.Struct, frozen=True):
    value: str  # after quote removal and backslash processing
    start: int  # offset of the word's first character in the source text
    end: int  # offset just after its last character
    literal: tuple[tuple[int, int], ...] = ()  # spans of `value` never substituted
    open_quote: str | None = None  # only from partial_words: the quote char left open


class Token(msgspec.Struct, frozen=True):
    kind: str  # "word" | ";" | "|" | "newline"
    word: Word | None
    pos: int


# Names of numbered results: `_3` (IPython's Out[3]) and `__` (the result before the last).
NUMBERED = re.compile(r"_[1-9][0-9]*|__")


def is_name(text: str) -> bool:
    """Whether `text` is an identifier: a variable or alias name."""
    return NAME.fullmatch(text) is not None


def split_binding(text: str, words: list[Word]) -> tuple[str | None, list[Word], int]:
    """`NAME = cmd …` or `NAME= cmd …` → (the name as typed, the command's words, where
    the `=` ends); (None, words, 0) when the words bind nothing. The one reading of a
    binding: the parser checks the name, the scanner (`!` after it), completion and
    highlighting only skip it."""
    if not words:
        return None, words, 0
    first = words[0]
    source = text[first.start : first.end]
    if len(words) > 1 and text[words[1].start : words[1].end] == "=":
        return source, words[2:], words[1].end
    if source.endswith("=") and source.count("=") == 1 and source == first.value and len(source) > 1:
        return source[:-1], words[1:], first.end
    return None, words, 0


def error_at(text: str, offset: int, message: str) -> ParseError:
    """A ParseError pointing at `offset` of `text`: the column and the line it is in.

    The 1-based line number rides along as `line_no` so a script runner can say
    FILE:LINE.
    """
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    line_end = len(text) if line_end < 0 else line_end
    error = ParseError(message, offset - line_start, text[line_start:line_end])
    error.line_no = text.count("\n", 0, line_start) + 1  # type: ignore[attr-defined]
    return error


class _Scan(msgspec.Struct):
    """The scanner's state: tokens so far and the word being built."""

    text: str
    strict: bool
    tokens: list[Token] = msgspec.field(default_factory=list)
    buf: list[str] = msgspec.field(default_factory=list)
    length: int = 0  # len("".join(buf))
    spans: list[tuple[int, int]] = msgspec.field(default_factory=list)
    word_start: int | None = None
    word_end: int = 0
    open_quote: str | None = None
    open_template: bool = False
    trailing_backslash: bool = False
    in_comment: bool = False
    after_blank: bool = False  # the last thing consumed separated words (blank or continuation)
    stage: list[Word] = msgspec.field(default_factory=list)  # words of the current pipeline stage
    first_stage: bool = True  # the current stage is the statement's first

    # -- building words ------------------------------------------------------------
    def begin(self, i: int) -> None:
        if self.word_start is None:
            self.word_start = i
            self.buf, self.spans, self.length = [], [], 0
        self.after_blank = False

    def add(self, chars: str, end: int, literal: bool = False) -> None:
        """Append `chars` (consumed up to source offset `end`) to the current word."""
        if literal and chars:
            at = self.length
            if self.spans and self.spans[-1][1] == at:
                self.spans[-1] = (self.spans[-1][0], at + len(chars))
            else:
                self.spans.append((at, at + len(chars)))
        self.buf.append(chars)
        self.length += len(chars)
        self.word_end = end

    def current(self, open_quote: str | None = None) -> Word:
        assert self.word_start is not None
        return Word("".join(self.buf), self.word_start, self.word_end, tuple(self.spans), open_quote)

    def finish(self) -> None:
        if self.word_start is None:
            return
        word = self.current()
        self.tokens.append(Token("word", word, word.start))
        self.stage.append(word)
        self.word_start = None

    def operator(self, kind: str, pos: int) -> None:
        self.finish()
        self.tokens.append(Token(kind, None, pos))
        self.stage = []
        self.first_stage = kind != "|"
        self.after_blank = False

    def command_position(self) -> bool:
        """Whether a word starting here is a command name (so `!` means a system command)."""
        if self.word_start is not None:
            return False
        if not self.stage:
            return True
        if not self.first_stage or len(self.stage) > 2:
            return False  # (checked first, so a long line of `!` words stays linear)
        name, rest, _ = split_binding(self.text, self.stage)
        return name is not None and not rest and is_name(name)

    def fail(self, offset: int, message: str) -> None:
        if self.strict:
            raise error_at(self.text, offset, message)


def _scan(text: str, strict: bool) -> _Scan:
    """Run the scanner over all of `text`."""
    s = _Scan(text, strict)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i = _backslash(s, i)
        elif c == "'":
            i = _single(s, i)
        elif c == '"':
            i = _double(s, i)
        elif text.startswith("{{", i):
            s.begin(i)
            i = _template(s, i)
        elif c in BLANKS:
            s.finish()
            s.after_blank = True
            i += 1
        elif c == "\n":
            s.operator("newline", i)
            i += 1
        elif c in OPERATORS:
            if c == "|" and text.startswith("||", i):
                s.fail(i, "unexpected '||' (pipe with a single '|')")
            s.operator(c, i)
            i += 1
        elif c == "#" and s.word_start is None:
            i = _comment(s, i)
        elif c == "!" and s.command_position():
            i = _system(s, i)
        else:
            s.begin(i)
            s.add(c, i + 1)
            i += 1
    return s


def _backslash(s: _Scan, i: int) -> int:
    """`\\<newline>` joins lines; `\\x` is a literal x; a final `\\` continues the text."""
    text = s.text
    if i + 1 == len(text):
        s.trailing_backslash = True
        s.fail(i, "the text ends with '\\' (a line continuation with no next line)")
        return i + 1
    newline = _newline_at(text, i + 1)
    if newline:
        if s.word_start is None:
            s.after_blank = True
        return i + 1 + newline
    s.begin(i)
    s.add(text[i + 1], i + 2, literal=True)
    return i + 2


def _single(s: _Scan, i: int) -> int:
    """Single quotes: everything up to the next `'` is literal."""
    s.begin(i)
    close = s.text.find("'", i + 1)
    if close < 0:
        s.fail(i, "unclosed single quote")
        s.add(s.text[i + 1 :], len(s.text), literal=True)
        s.open_quote = "'"
        return len(s.text)
    s.add(s.text[i + 1 : close], close + 1, literal=True)
    return close + 1


def _double(s: _Scan, i: int) -> int:
    """Double quotes: `\\` escapes only $ ` " \\ and newline; `{{ … }}` stays one unit."""
    text, n = s.text, len(s.text)
    s.begin(i)
    j = i + 1
    while j < n:
        c = text[j]
        if c == '"':
            s.add("", j + 1)
            return j + 1
        if c == "\\" and _newline_at(text, j + 1):
            j += 1 + _newline_at(text, j + 1)
        elif c == "\\" and j + 1 < n and text[j + 1] in _DQ_ESCAPES:
            s.add(text[j + 1], j + 2, literal=True)
            j += 2
        elif text.startswith("{{", j):
            j = _template(s, j)
            if s.open_template:
                return n
        else:
            s.add(c, j + 1)
            j += 1
    s.fail(i, "unclosed double quote")
    s.open_quote = '"'
    return n


def _template(s: _Scan, i: int) -> int:
    """`{{ … }}` is copied verbatim (not literal: templates.expand substitutes it)."""
    close = s.text.find("}}", i + 2)
    if close < 0:
        s.fail(i, "unclosed '{{' (a template ends with '}}')")
        s.add(s.text[i:], len(s.text))
        s.open_template = True
        return len(s.text)
    s.add(s.text[i : close + 2], close + 2)
    return close + 2


def _comment(s: _Scan, i: int) -> int:
    """`#` at a word start comments to the end of the line (the newline still counts)."""
    end = s.text.find("\n", i)
    if end < 0:
        s.in_comment = True
        return len(s.text)
    return end


def _system(s: _Scan, i: int) -> int:
    """`!cmd …` in command position: the rest of the line, raw, as one literal word.

    A backslash-newline still joins lines; nothing else is interpreted (sh does that).
    """
    text, n = s.text, len(s.text)
    j = i
    while True:
        newline = text.find("\n", j)
        if newline < 0:
            j = n
            break
        if not _odd_backslashes(text, newline):
            j = newline
            break
        j = newline + 1
    if j == n and _odd_backslashes(text, n):
        s.trailing_backslash = True
        s.fail(n - 1, "the text ends with '\\' (a line continuation with no next line)")
    raw = text[i:j].replace("\\\n", "")
    s.begin(i)
    s.add(raw, j, literal=True)
    s.finish()
    return j


def _newline_at(text: str, i: int) -> int:
    """Length of the line break at text[i] (`\n`, or `\r\n` from a Windows file), else 0."""
    if text.startswith("\n", i):
        return 1
    return 2 if text.startswith("\r\n", i) else 0


def _odd_backslashes(text: str, end: int) -> bool:
    """Whether text[:end] ends in an odd number of backslashes (an escaping one)."""
    count = 0
    while end - count - 1 >= 0 and text[end - count - 1] == "\\":
        count += 1
    return count % 2 == 1


# -- the public API -------------------------------------------------------------------


def tokenize(text: str) -> list[Token]:
    """Words and operators of `text`; ParseError (with column and line) on bad syntax."""
    s = _scan(text, strict=True)
    s.finish()
    return s.tokens


def is_complete(text: str) -> bool:
    """False while a quote or `{{` is open or the text ends with `\\`: read another line."""
    s = _scan(text, strict=False)
    return not (s.open_quote or s.open_template or s.trailing_backslash)


def partial_words(text: str) -> list[Word]:
    """The words of the stage the end of `text` is in, for completion; never raises.

    An open quote makes the last word carry `open_quote`; text ending in unquoted
    blanks gets a last empty word at len(text); inside a trailing `# comment` the last
    word is empty with open_quote "#" (nothing to complete there).
    """
    s = _scan(text, strict=False)
    words = list(s.stage)
    if s.in_comment:
        return words + [Word("", len(text), len(text), (), "#")]
    if s.word_start is not None:
        s.word_end = len(text)
        return words + [s.current(s.open_quote)]
    if s.after_blank:
        return words + [Word("", len(text), len(text))]
    return words


def partial_stages(text: str) -> list[list[Word]]:
    """Every pipeline stage's words, in order, for highlighting; never raises.

    Statements are not told apart: a stage after `;` is a stage like one after `|`."""
    s = _scan(text, strict=False)
    tokens = list(s.tokens)
    if s.word_start is not None:
        s.word_end = len(text)
        tokens.append(Token("word", s.current(s.open_quote), s.word_start))
    stages: list[list[Word]] = [[]]
    for token in tokens:
        if token.word is None:
            stages.append([])
        else:
            stages[-1].append(token.word)
    return [stage for stage in stages if stage]


def piped_stage(text: str) -> list[Word]:
    """The words of the stage piped into the one the end of `text` is in (`a x | b {{.`
    → the words of `a x`); empty when nothing is piped in. Never raises."""
    tokens = _scan(text, strict=False).tokens
    ops = [i for i, t in enumerate(tokens) if t.kind != "word"]
    if not ops or tokens[ops[-1]].kind != "|":
        return []
    start = ops[-2] + 1 if len(ops) > 1 else 0
    return [t.word for t in tokens[start : ops[-1]] if t.word is not None]


def quote(value: str) -> str:
    """POSIX-quote `value` so tokenize() gives it back as one word, unsubstituted."""
    if _SAFE.match(value):
        return value
    return "'" + value.replace("'", "'\\''") + "'"
