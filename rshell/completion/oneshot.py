"""`rshell --complete "<line up to the cursor>"`: completion for bash, zsh and fish.

The shell scripts in `completers/` call this on Tab and offer its lines, so the
system shell completes what the REPL does. Plain `--complete` prints one candidate a
line: the whole current word as it would read after completing, then a TAB and the
meta when there is one. `--complete-shell SHELL` (what the scripts use) prints only
candidates that extend the word as typed, in the form that shell inserts: a system
shell replaces its word with the candidates' common prefix, so a fuzzy match (the
REPL's menu ranks those too) would delete what the user typed.

The line may start with the program and rshell's own options (`rshell --local
--session w run …`); they are understood, and complete themselves.

It answers from the disk cache. When the line needs something the cache lacks and a
token is available, it makes one quick round of fetches (at most FETCH_BUDGET seconds,
no retries) and saves the cache, so the next Tab is instant. With `--local` in the
line the round runs against the detached `--local` sandbox (no token needed), built
through the composition root (`cli.Api`) as every command's client is.
Whatever goes wrong, it prints nothing but candidates on stdout and exits 0: a shell's
Tab must never show an error or a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TextIO

from rshell.completion.cache import CompletionCache, default_path
from rshell.completion.context import tokens
from rshell.completion.engine import Completion, CompletionEngine
from rshell.completion.matcher import Candidate, rank
from rshell.completion.refresher import Refresher
from rshell.grammar.lexer import partial_words
from rshell.rendering.sanitize import neutralise
from rshell.session.state import Session

if TYPE_CHECKING:
    from rshell.cli import GlobalOption
    from rshell.client.api import ReplicateClient

log = logging.getLogger(__name__)

FETCH_BUDGET = 1.5  # seconds a Tab may wait for the network, at most
LOCAL_STARTUP = 3.0  # more seconds with --local: its detached sandbox may have to start first
PROGRAMS = ("rshell", "replicate")
SHELLS = ("bash", "zsh", "fish")
# The --local sandbox listens on a new port each run; its cache must keep one name.
# bash's default COMP_WORDBREAKS; the bash script passes the user's own in this variable.
BASH_WORDBREAKS = " \t\n\"'@><=;|&(:"
WORDBREAKS_ENV = "RSHELL_COMP_WORDBREAKS"
# readline's rl_special_prefixes in bash: a word break that stays in the word it starts.
BASH_SPECIAL_PREFIXES = "$@"
# Where zsh and fish end a word (they do not split at `=` or `:`).
SHELL_BLANKS = " \t\n;|&<>()"
# A word ending so is not finished (key=, directory/, owner/name:, @): no space after it.
OPEN_ENDS = ("=", "/", ":", "@")
# What a menu shows of a word: the part after its last `key=`, `model:` or `@`.
_SHOWN_BREAKS = "=:@"


def main(
    line: str, out: TextIO | None = None, shell: str | None = None, *, session: str | None = None, local: bool = False
) -> int:
    """Print the candidates for `line` (a shell's command line); always exit 0.

    `session` and `local` are the options rshell itself was given (`rshell --session s
    --complete "e te"`): the line's own options, when it has them, come on top."""
    out = out or sys.stdout
    try:
        for text in answer(line, shell, os.environ.get(WORDBREAKS_ENV), session=session, local=local):
            out.write(text + "\n")
        out.flush()
    except Exception:
        log.debug("rshell --complete failed", exc_info=True)
    return 0


def answer(
    line: str, shell: str | None = None, breaks: str | None = None, *, session: str | None = None, local: bool = False
) -> list[str]:
    """The output lines for `line`: plain `word<TAB>meta`, or in `shell`'s form."""
    shell_line = read_line(line)
    if session is not None or local:
        shell_line = replace(shell_line, session=shell_line.session or session, local=shell_line.local or local)
    found = _found(shell_line)
    if shell is None:
        return [f"{word}\t{meta}" if meta else word for word, meta in found]
    typed = shell_line.line[_word_start(shell_line.line) :]
    extending = [(word, meta) for word, meta in found if word.startswith(typed)]
    if shell == "bash":
        return bash_replies(typed, [word for word, _ in extending], breaks or BASH_WORDBREAKS)
    if shell == "zsh":
        return zsh_lines(typed, extending)
    if shell == "fish":
        cut = shell_word_start(typed, SHELL_BLANKS, quote_opens_word=False)
        return [f"{word[cut:]}\t{meta}" if meta else word[cut:] for word, meta in _unique(extending)]
    return []


# the shell's line: the program, rshell's own options, then an rshell statement ------------------


@dataclass(frozen=True)
class ShellLine:
    """A system shell's line read as rshell's argv."""

    line: str  # from the statement's first word (or the option at the cursor) to the cursor
    session: str | None = None  # --session NAME
    local: bool = False  # --local
    at_option: bool = False  # the cursor's word is where rshell's own options go
    option_value: str | None = None  # the option whose value the cursor's word is
    nothing: bool = False  # nothing of ours fits (the value of -c, past --version …)


def global_options() -> list[GlobalOption]:
    """rshell's own options, as cli declares them (one declaration: usage, parser, here)."""
    from rshell.cli import GLOBAL_OPTIONS

    return [o for o in GLOBAL_OPTIONS if not o.hidden]


def read_line(line: str) -> ShellLine:
    """`rshell --local --session w run sta` → the statement `run sta`, session w, local.

    A line without the program name is taken as a statement.
    """
    words = [w for w in partial_words(line) if w.open_quote != "#"]
    if not words or os.path.basename(words[0].value) not in PROGRAMS or len(words) == 1:
        return ShellLine(line)
    from rshell.cli import global_option

    session, local, i, last = None, False, 1, len(words) - 1
    while i < last:
        name, eq, value = words[i].value.partition("=")
        option = global_option(name)
        if option is None or option.hidden:
            break
        if option.ends:
            return ShellLine("", nothing=True)
        if option.metavar and not eq:
            if i + 1 == last:
                return ShellLine(line[words[last].start :], session, local, option_value=name)
            value, i = words[i + 1].value, i + 2
        else:
            i += 1
        if name == "--session":
            session = value
        elif name == "--local":
            local = True
    rest = line[words[i].start :]
    if i == last and words[i].value.startswith("-"):
        return ShellLine(rest, session, local, at_option=True)
    return ShellLine(rest, session, local)


def _found(shell_line: ShellLine) -> list[tuple[str, str | None]]:
    """(whole word, meta) for the cursor's word."""
    if shell_line.nothing:
        return []
    line = shell_line.line
    if shell_line.at_option:
        completions = _option_completions(line)
    elif shell_line.option_value == "--session":
        completions = _session_names(line)
    elif shell_line.option_value is not None:
        completions = []
    else:
        completions = candidates_for(line, shell_line.session, shell_line.local)
    return [_whole_word(line, c) for c in completions]


def _option_completions(typed: str) -> list[Completion]:
    """rshell's own options at the cursor; `--session=` goes on to session names."""
    name, eq, value = typed.partition("=")
    if eq:
        return _session_names(value) if name == "--session" else []
    pool = [Candidate(name, o.help) for o in global_options() for name in o.names]
    return [Completion(c.text, -len(typed), meta=c.meta) for c in rank(typed, pool, fuzzy=False)]


def _session_names(typed: str) -> list[Completion]:
    """The stored sessions, for `--session NAME`."""
    from rshell.session.store import stored_session_names

    names = stored_session_names()
    found = rank(typed, [Candidate(n, "session") for n in names], fuzzy=False)
    return [Completion(c.text, -len(typed), meta=c.meta) for c in found]


# the engine, the cache and one quick round of fetches ---------------------------------------------


def candidates_for(line: str, session_name: str | None = None, local: bool = False) -> list[Completion]:
    """The engine's completions for the statement `line`, fetching once if needed."""
    api = _Api(local)
    cache = CompletionCache(default_path(api.root.cache_url))
    cache.load()
    session = _session(session_name, api.root.scope)
    loop = asyncio.new_event_loop()
    try:
        refresher = Refresher(api.client, cache, loop)
        refresher.debounce = 0
        engine = CompletionEngine(cache, session, refresher)
        found = engine.complete(line)
        if api.should_fetch(refresher):
            landed = loop.run_until_complete(_fetch_round(refresher, api))
            if landed:
                _save(cache)
                found = engine.complete(line)
        return found
    finally:
        loop.close()


class _Api:
    """One client for the round, built by the composition root (`cli.Api`) as every
    command's is, with no retries (a Tab cannot wait). With `--local` it is the
    detached sandbox a `--local run` uses, started (on first use) as that run would
    start it; its start-up gets an allowance on top of the fetch budget."""

    def __init__(self, local: bool) -> None:
        from rshell.cli import Api

        self.root = Api(None, local=local, retries=0)
        self.budget = FETCH_BUDGET + (LOCAL_STARTUP if local else 0.0)
        self._making: asyncio.Future[ReplicateClient] | None = None

    def should_fetch(self, refresher: Refresher) -> bool:
        return bool(refresher.requested) and (self.root.local or _has_token(self.root.base_url))

    async def client(self) -> ReplicateClient:
        if self._making is None:  # opening the --local sandbox may wait for its start: off the loop
            self._making = asyncio.ensure_future(asyncio.to_thread(self.root.make))
        return await asyncio.shield(self._making)  # a cancelled fetch must not orphan it

    async def aclose(self) -> None:
        if self._making is not None:
            try:
                client = await self._making
            except Exception:
                client = None
            if client is not None:
                await client.aclose()
        self.root.stop()  # lets the --local sandbox go (it stops itself once unused)


async def _fetch_round(refresher: Refresher, api: _Api) -> bool:
    """Run the fetches the engine asked for, within the budget; True if any landed."""
    landed: list[bool] = []
    refresher.on_update = lambda: landed.append(True)
    await asyncio.sleep(0)  # let the queued schedules start their fetches
    try:
        if not await refresher.drain(api.budget):
            refresher.cancel_pending()
            await refresher.drain(0.2)  # let the cancelled fetches unwind
    finally:
        await api.aclose()
    return bool(landed)


def _has_token(base_url: str) -> bool:
    """Whether a token is configured (a broken hosts file counts as none)."""
    from rshell.session.credentials import load_token

    try:
        return bool(load_token(base_url))
    except Exception:
        return False


def _session(name: str | None, scope: str = "") -> Session:
    """The stored session (its variables and aliases complete too), else a fresh one."""
    try:
        from rshell.session.store import load_session

        return load_session(name or "default", scope)
    except Exception:
        return Session()


def _save(cache: CompletionCache) -> None:
    try:
        cache.save()
    except OSError:
        log.debug("completion cache not saved", exc_info=True)


# words, and the forms the shells insert ----------------------------------------------------------


def _whole_word(line: str, completion: Completion) -> tuple[str, str | None]:
    """The whole current word after completing, and its meta."""
    word_start = _word_start(line)
    replace_at = max(0, len(line) + completion.start)
    word = line[min(word_start, replace_at) : replace_at] + completion.text
    # nothing the user's terminal would obey (names come from the API), one line per candidate
    return neutralise(word).replace("\n", "\\n").replace("\t", "\\t"), neutralise(completion.meta or "")


def _word_start(line: str) -> int:
    """Where the word at the cursor begins (the end of the line after a blank)."""
    toks = tokens(line)
    if not toks or toks[-1].open_quote == "#":
        return len(line)
    return toks[-1].start


def shell_word_start(typed: str, breaks: str, quote_opens_word: bool, keep: str = "") -> int:
    """Where the shell's own word begins inside rshell's word `typed`.

    That is after the last unquoted break character (bash: COMP_WORDBREAKS, which
    holds `=`, `:` and `@`; zsh and fish: only blanks and operators), or at it when
    the word keeps it (`keep`: readline keeps `@` and `$` in the word they start).
    Inside an open quote readline completes from just after the quote
    (`quote_opens_word`).
    """
    start, quote, quote_at, i = 0, "", 0, 0
    while i < len(typed):
        ch = typed[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"':
                i += 1
        elif ch == "\\":
            i += 1
        elif ch in "'\"":
            quote, quote_at = ch, i
        elif ch in breaks:
            start = i if ch in keep else i + 1
        i += 1
    if quote and quote_opens_word:
        return quote_at + 1
    return start


def is_open(word: str) -> bool:
    """Whether more follows the word (key=, dir/, owner/name:, @): no space after it."""
    return word.endswith(OPEN_ENDS)


def bash_replies(typed: str, words: list[str], breaks: str) -> list[str]:
    """COMPREPLY: each word from where readline's word begins; one finished word gets a space."""
    cut = shell_word_start(typed, breaks, quote_opens_word=True, keep=BASH_SPECIAL_PREFIXES)
    replies = list(dict.fromkeys(word[cut:] for word in words))
    if len(replies) == 1 and not is_open(words[0]):
        replies[0] += " "
    return replies


def zsh_lines(typed: str, found: list[tuple[str, str | None]]) -> list[str]:
    """`open|done<TAB>word<TAB>shown` for compadd: the word replaces zsh's current word."""
    cut = shell_word_start(typed, SHELL_BLANKS, quote_opens_word=False)
    lines = []
    for word, meta in _unique(found):
        shown = word[shell_word_start(word, _SHOWN_BREAKS + SHELL_BLANKS, quote_opens_word=False) :] or word
        shown = f"{shown}  -- {meta}" if meta else shown
        lines.append(f"{'open' if is_open(word) else 'done'}\t{word[cut:]}\t{shown}")
    return lines


def _unique(found: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    seen: set[str] = set()
    out = []
    for word, meta in found:
        if word not in seen:
            seen.add(word)
            out.append((word, meta))
    return out
