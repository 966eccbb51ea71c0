"""Match what was typed against candidates and rank them, pgcli-style.

Ranking is by match class: a prefix of the whole text first, then a match at a word
boundary (after `/`, `-`, `_`, `.`, `:`), then any other substring, then a fuzzy
subsequence (tighter and earlier matches first). One letter matches only as a prefix
or at a word boundary (`r` offers `run`, not `hardware`). Inside a class the caller's order is
kept (Python's sort is stable), so the caller decides priority (recent models first,
then by run count) by how it orders the candidates.

This runs on every keystroke, over up to tens of thousands of model names, so it works
on precomputed lowercase keys and skips the costly fuzzy pass when cheaper classes
already fill the limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

_BOUNDARY = "/-_.:"

PREFIX, BOUNDARY, SUBSTRING, FUZZY = 0, 1, 2, 3


@dataclass(frozen=True)
class Candidate:
    """Something that may be offered: `text` is inserted, `display`/`meta` are shown."""

    text: str
    meta: str | None = None
    display: str | None = None
    key: str = field(default="", compare=False)  # lowercase match key; defaults to text

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.text.lower())


def candidates(texts: Iterable[str], meta: str | None = None) -> list[Candidate]:
    """Plain candidates from strings, sharing one meta."""
    return [Candidate(t, meta) for t in texts]


def _boundary_match(key: str, word: str) -> bool:
    """Whether `word` starts right after a separator somewhere inside `key`."""
    start = key.find(word, 1)
    while start > 0:
        if key[start - 1] in _BOUNDARY:
            return True
        start = key.find(word, start + 1)
    return False


def _fuzzy_pattern(word: str) -> re.Pattern[str]:
    """A subsequence regex: `sdx` matches `s[^d]*d[^x]*x`.

    Same matches as the lazy `s.*?d.*?x`, but each step can only take the next
    occurrence, so a failing key costs no backtracking (it matters over 10,000 keys).
    """
    parts = [re.escape(word[0])]
    for ch in word[1:]:
        parts.append(f"[^{re.escape(ch)}]*{re.escape(ch)}")
    return re.compile("".join(parts))


def rank(word: str, pool: Sequence[Candidate], limit: int | None = None, fuzzy: bool = True) -> list[Candidate]:
    """The candidates of `pool` that match `word`, best first, at most `limit`.

    Matching ignores case. An empty word matches everything in the pool's order.
    """
    if not word:
        return list(pool[:limit] if limit else pool)
    w = word.lower()
    prefix: list[Candidate] = []
    boundary: list[Candidate] = []
    substring: list[Candidate] = []
    rest: list[Candidate] = []
    for c in pool:
        key = c.key
        if key.startswith(w):
            prefix.append(c)
        elif w in key:
            if _boundary_match(key, w):
                boundary.append(c)
            elif len(w) > 1:
                substring.append(c)
        else:
            rest.append(c)
    found = prefix + boundary + substring
    if fuzzy and (limit is None or len(found) < limit) and len(w) > 1:
        found += _fuzzy(w, rest)
    return found[:limit] if limit else found


def _fuzzy(w: str, pool: list[Candidate]) -> list[Candidate]:
    """Subsequence matches, the shortest and earliest match spans first."""
    pattern = _fuzzy_pattern(w)
    scored: list[tuple[int, int, int, Candidate]] = []
    first, last = w[0], w[-1]
    for i, c in enumerate(pool):
        key = c.key
        if first not in key or last not in key:
            continue
        m = pattern.search(key)
        if m:
            scored.append((m.end() - m.start(), m.start(), i, c))
    scored.sort(key=lambda s: s[:3])
    return [s[3] for s in scored]


def match_class(word: str, text: str) -> int | None:
    """Which class `text` falls in for `word` (None: no match); for tests and debugging."""
    w, key = word.lower(), text.lower()
    if key.startswith(w):
        return PREFIX
    if w in key and _boundary_match(key, w):
        return BOUNDARY
    if len(w) < 2:
        return None  # one letter: a prefix or a word's start only
    if w in key:
        return SUBSTRING
    return FUZZY if _fuzzy_pattern(w).search(key) else None
