"""Budgets as ratios: each benchmark measures rshell and a baseline in the same run.

A loaded machine slows both sides alike, so a ratio fails only on a defect. Every
figure is printed (and summed up at the end of the run by tests/conftest.py), met or
missed, so the CI log shows each budget as a ratio.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Figure:
    name: str
    measured: float
    baseline: float
    limit: float
    detail: str

    @property
    def ratio(self) -> float:
        return self.measured / self.baseline if self.baseline else float("inf")

    @property
    def met(self) -> bool:
        return self.ratio <= self.limit

    def line(self) -> str:
        verdict = "ok  " if self.met else "MISS"
        text = f"{verdict} {self.name}: {self.ratio:.2f}x (budget {self.limit:.2f}x)"
        return f"{text}; {self.detail}" if self.detail else text


FIGURES: list[Figure] = []


def check_ratio(name: str, measured: float, baseline: float, limit: float, detail: str = "") -> Figure:
    """Record `measured / baseline` against `limit`; fail, with the figures, when it is over."""
    figure = Figure(name, measured, baseline, limit, detail)
    FIGURES.append(figure)
    print(figure.line())
    assert figure.met, figure.line()
    return figure


def cpu_seconds(action: Callable[[], Any]) -> float:
    """The CPU time this thread spent in `action`: for work that is pure computation.

    A loaded machine preempts a long action more often than a short one, so wall-clock
    ratios between actions of different lengths grow with the load; CPU time does not.
    """
    start = time.thread_time()
    action()
    return time.thread_time() - start


def interleaved(rounds: int, *actions: Callable[[], Any]) -> list[float]:
    """The median time of each action over `rounds` rounds, run in turn within each round
    (after one warm-up round), so a burst of load hits every action alike."""
    for action in actions:
        action()
    times: list[list[float]] = [[] for _ in actions]
    for _ in range(rounds):
        for index, action in enumerate(actions):
            start = time.perf_counter()
            action()
            times[index].append(time.perf_counter() - start)
    return [statistics.median(each) for each in times]
