"""Ratios that hold on a busy machine: both sides measured in interleaved rounds
(A B A B …, budgets.interleaved), the median of each, and a miss measured once more
before it fails, so a burst of load between two measurements is not a red build.

Async sides run on one event loop kept for the whole measurement (`Loop`), so a
client and its connections stay warm from round to round, as in a real session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from budgets import Figure, check_ratio, interleaved


class Loop:
    """One event loop for a benchmark: `run(coro)` from plain code, `close()` after."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def run(self, awaitable: Awaitable[Any]) -> Any:
        return self.loop.run_until_complete(awaitable)

    def action(self, make: Callable[[], Awaitable[Any]]) -> Callable[[], Any]:
        """A plain callable for budgets.interleaved that runs a fresh `make()` here."""
        return lambda: self.run(make())

    def close(self) -> None:
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()


def ratio_in_rounds(
    name: str,
    rounds: int,
    measured: Callable[[], Any],
    baseline: Callable[[], Any],
    limit: float,
    detail: Callable[[float, float], str] = lambda m, b: f"{m:.3f} s vs {b:.3f} s",
) -> Figure:
    """Median time of `measured` over median time of `baseline`, from `rounds`
    interleaved rounds; over `limit`, measured once more and that decides."""
    for attempt in (1, 2):
        mine, base = interleaved(rounds, measured, baseline)
        if mine / base <= limit or attempt == 2:
            suffix = "" if attempt == 1 else " (re-measured after a miss)"
            return check_ratio(name, mine, base, limit, detail(mine, base) + suffix)
        print(f"miss, measuring again: {name}: {mine / base:.2f}x (budget {limit:.2f}x); {detail(mine, base)}")
    raise AssertionError("unreachable")
