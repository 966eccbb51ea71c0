"""`rshell --complete "<line up to the cursor>"`: completion for bash, zsh and fish.

The shell scripts in `completers/` call this on Tab and offer its lines, so the
system shell completes exactly what the REPL does. Each line is one candidate: the
whole current word as it would read after completing (shells replace whole words),
then a TAB and the meta when there is one.

It answers from the disk cache. When the line needs something the cache lacks and a
token is available, it makes one quick round of fetches (at most FETCH_BUDGET seconds,
no retries) and saves the cache, so the next Tab is instant. Whatever goes wrong, it
prints nothing but candidates on stdout and exits 0: a shell's Tab must never show an
error or a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import TYPE_CHECKING, TextIO

from rshell.cli import SWITCHES as GLOBAL_SWITCHES  # rshell's own options, declared once in cli.py
from rshell.completion.cache import CompletionCache, default_path
from rshell.completion.context import tokens
from rshell.completion.engine import Completion, CompletionEngine
from rshell.completion.refresher import Refresher
from rshell.grammar.lexer import partial_words
from rshell.rendering.sanitize import neutralise
from rshell.session.state import Session

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient

log = logging.getLogger(__name__)

FETCH_BUDGET = 1.5  # seconds a Tab may wait for the network, at most
PROGRAMS = ("rshell", "replicate")


def main(line: str, out: TextIO | None = None) -> int:
    """Print the candidates for `line` (a shell's command line); always exit 0."""
    out = out or sys.stdout
    try:
        line, session_name = strip_program(line)
        for text in candidates(line, session_name):
            out.write(text + "\n")
        out.flush()
    except Exception:
        log.debug("rshell --complete failed", exc_info=True)
    return 0


def strip_program(line: str) -> tuple[str, str | None]:
    """A shell's line (`rshell --session w run sta`) → the rshell line (`run sta`)
    and the --session named on it. A line without the program name is kept."""
    words = [w for w in partial_words(line) if w.open_quote != "#"]
    if not words or os.path.basename(words[0].value) not in PROGRAMS or len(words) == 1:
        return line, None
    session, i = None, 1
    while i < len(words) - 1:
        name, eq, value = words[i].value.partition("=")
        if name in GLOBAL_SWITCHES and not eq:
            i += 1
        elif name == "--session" and eq:
            session, i = value, i + 1
        elif name == "--session" and i + 2 < len(words):
            session, i = words[i + 1].value, i + 2
        else:
            break
    return line[words[i].start :], session


def candidates(line: str, session_name: str | None = None) -> list[str]:
    """`word` or `word<TAB>meta` lines for `line`, fetching once if needed."""
    from rshell.session.credentials import resolve_base_url

    base_url = resolve_base_url()
    cache = CompletionCache(default_path(base_url))
    cache.load()
    session = _session(session_name)
    loop = asyncio.new_event_loop()
    try:
        client: list[ReplicateClient] = []
        refresher = Refresher(lambda: _client(client, base_url), cache, loop)
        refresher.debounce = 0
        engine = CompletionEngine(cache, session, refresher)
        found = engine.complete(line)
        if refresher.requested and _has_token(base_url):
            landed = loop.run_until_complete(_fetch_round(refresher, client))
            if landed:
                _save(cache)
                found = engine.complete(line)
        return [_line(line, c) for c in found]
    finally:
        loop.close()


async def _fetch_round(refresher: Refresher, client: list[ReplicateClient]) -> bool:
    """Run the fetches the engine asked for, within the budget; True if any landed."""
    landed: list[bool] = []
    refresher.on_update = lambda: landed.append(True)
    await asyncio.sleep(0)  # let the queued schedules start their fetches
    try:
        if not await refresher.drain(FETCH_BUDGET):
            refresher.cancel_pending()
            await refresher.drain(0.2)  # let the cancelled fetches unwind
    finally:
        if client:
            await client[0].aclose()
    return bool(landed)


async def _client(holder: list[ReplicateClient], base_url: str) -> ReplicateClient:
    """One client for the whole round, with no retries (a Tab cannot wait for backoff)."""
    if not holder:
        from rshell.client.api import ReplicateClient
        from rshell.session.credentials import load_token

        holder.append(ReplicateClient(load_token(base_url), base_url, max_retries=0))
    return holder[0]


def _has_token(base_url: str) -> bool:
    """Whether a token is configured (a broken hosts file counts as none)."""
    from rshell.session.credentials import load_token

    try:
        return bool(load_token(base_url))
    except Exception:
        return False


def _session(name: str | None) -> Session:
    """The stored session (its variables and aliases complete too), else a fresh one."""
    try:
        from rshell.session.store import load_session

        return load_session(name or "default")
    except Exception:
        return Session()


def _save(cache: CompletionCache) -> None:
    try:
        cache.save()
    except OSError:
        log.debug("completion cache not saved", exc_info=True)


def _line(line: str, completion: Completion) -> str:
    """The whole current word after completing, plus `\\t meta`."""
    word_start = _word_start(line)
    replace_at = max(0, len(line) + completion.start)
    word = line[min(word_start, replace_at) : replace_at] + completion.text
    # one line per candidate, nothing the user's terminal would obey (names come from the API)
    word = neutralise(word).replace("\n", "\\n").replace("\t", "\\t")
    return f"{word}\t{completion.meta}" if completion.meta else word


def _word_start(line: str) -> int:
    """Where the word at the cursor begins (the end of the line after a blank)."""
    toks = tokens(line)
    if not toks or toks[-1].open_quote == "#":
        return len(line)
    return toks[-1].start
