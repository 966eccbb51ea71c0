"""Budget (issue 9 item 6): the lexer and templates are linear in the text.

Ten times the `$` signs may cost about ten times as much, not a hundred: the time
for 20,000 is compared with the time for 2,000 measured in the same rounds
(interleaved, medians, in CPU time so that a loaded machine cannot skew it), and must
stay under 20x. The quadratic scan this replaces took about 100x (2,000: 0.2 s;
20,000: 18 s).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from budgets import CPU, Figure, interleaved, within_budget

from rshell.grammar.lexer import Word, quote, tokenize
from rshell.grammar.templates import expand, references

pytestmark = pytest.mark.benchmark

RUNS = 7
BUDGET_RATIO = 20.0


def _scan(text: str) -> None:
    for token in tokenize(text):
        if token.word is not None:
            references(token.word)


CASES: dict[str, Callable[[int], Callable[[], None]]] = {
    "bare dollars": lambda n: lambda: _scan("show x" + "$" * n),
    "prices in one word": lambda n: lambda: _scan("show " + 'text="costs $5 "' * (n // 8)),
    "quoted dollars": lambda n: lambda: _scan("show " + quote("$" * n)),
    "many references": lambda n: lambda: [expand(Word("$a" * (n // 2), 0, 0), lambda _: "v")],
    "bang words": lambda n: lambda: _scan("a" + " !" * n),
}


@pytest.mark.parametrize("case", list(CASES))
def test_scans_grow_linearly(case: str) -> None:
    small, large = CASES[case](2_000), CASES[case](20_000)

    def measure() -> Figure:
        short, long = interleaved(RUNS, small, large, clock=CPU)
        detail = f"20,000: {long * 1000:.1f} ms, 2,000: {short * 1000:.1f} ms (CPU)"
        return Figure(f"grammar, {case}: 10x the text / 1x (CPU)", long, max(short, 1e-6), BUDGET_RATIO, detail)

    within_budget(measure)
