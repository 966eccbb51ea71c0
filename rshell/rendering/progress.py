"""A one-line spinner on stderr while a prediction or training runs: status, elapsed
time, and a progress bar when the model's logs carry tqdm-style progress (`NN%|`).

It draws only on a terminal (a log file or a pipe gets no carriage-return noise), and
it steps aside (clears its line) whenever a log or info line is printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable, Iterator
from typing import IO

FRAMES = "|/-\\"
BAR_WIDTH = 20
TICK = 0.1  # seconds between redraws: smooth enough, cheap enough

# tqdm writes e.g. ` 45%|████▌     | 45/100 [00:01<00:01, 40.00it/s]`
_PERCENT = re.compile(r"(\d{1,3})%\|")


def parse_progress(logs: str | None) -> int | None:
    """The last percentage a tqdm-style bar printed in `logs`, or None."""
    if not logs:
        return None
    found = _PERCENT.findall(logs)
    if not found:
        return None
    return min(100, int(found[-1]))


def format_elapsed(seconds: float) -> str:
    """`4.2s` under a minute, `3m05s` after: short enough for a status line."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s"


def bar(percent: int, width: int = BAR_WIDTH) -> str:
    """`[#########-----------]  45%`, plain ASCII so any terminal encoding shows it."""
    filled = round(width * max(0, min(100, percent)) / 100)
    return f"[{'#' * filled}{'-' * (width - filled)}] {percent:3d}%"


def _inert(text: str) -> str:
    """A label or status from the API on the one status line, nothing a terminal obeys."""
    from rshell.rendering.sanitize import neutralise
    from rshell.text import one_line

    return one_line(neutralise(str(text)))


class Progress:
    """The live status line. `enabled=False` makes every method a no-op."""

    def __init__(
        self,
        stream: IO[str],
        *,
        enabled: bool,
        label: str = "",
        clock: Callable[[], float] = time.monotonic,
        width: Callable[[], int] | None = None,
    ) -> None:
        self.stream = stream
        self.enabled = enabled
        self.label = label
        self.clock = clock
        self.started = clock()
        self.status = "starting"
        self.percent: int | None = None
        self._frame = 0
        self._drawn = 0  # characters on the line now, to blank them out
        self._width = width or _terminal_columns
        self._ticker: asyncio.Task[None] | None = None

    def update(self, status: str | None = None, logs: str | None = None) -> None:
        """Take a new status and the logs so far; redraw."""
        if status:
            self.status = status
        found = parse_progress(logs)
        if found is not None:
            self.percent = found
        self.draw()

    def line(self) -> str:
        """The text of the status line (without the leading carriage return)."""
        parts = [FRAMES[self._frame % len(FRAMES)]]
        if self.label:
            parts.append(_inert(self.label))
        parts += [_inert(self.status), format_elapsed(self.clock() - self.started)]
        if self.percent is not None:
            parts.append(bar(self.percent))
        return " ".join(parts)[: max(10, self._width() - 1)]

    def draw(self) -> None:
        if not self.enabled:
            return
        text = self.line()
        pad = " " * max(0, self._drawn - len(text))
        self.stream.write("\r" + text + pad)
        self.stream.flush()
        self._drawn = len(text)

    def clear(self) -> None:
        """Blank the line so the next write starts at column 0 on a clean line."""
        if not self.enabled or not self._drawn:
            return
        self.stream.write("\r" + " " * self._drawn + "\r")
        self.stream.flush()
        self._drawn = 0

    @contextlib.contextmanager
    def aside(self) -> Iterator[None]:
        """Around a log or info line: clear first, redraw after (only if it was showing)."""
        showing = self._drawn > 0 or self._ticker is not None
        self.clear()
        try:
            yield
        finally:
            if showing:
                self.draw()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            self._frame += 1
            self.draw()

    def start(self) -> None:
        """Animate in the background (the wait loop may sleep up to a second)."""
        if self.enabled and self._ticker is None:
            self.draw()
            self._ticker = asyncio.get_running_loop().create_task(self._tick())

    def stop(self) -> None:
        """Stop animating and leave a clean line behind."""
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        self.clear()


def _terminal_columns() -> int:
    """The terminal's width (80 if unknown); shutil is imported only when a line is
    drawn, since it brings the archive modules a one-shot never needs."""
    import shutil

    return shutil.get_terminal_size((80, 24)).columns
