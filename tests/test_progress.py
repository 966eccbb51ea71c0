"""The stderr spinner: status, elapsed time, progress bar, and silence off a TTY."""

from __future__ import annotations

import asyncio
import io

from rshell.rendering.progress import Progress, bar, format_elapsed, parse_progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(enabled: bool = True) -> tuple[Progress, io.StringIO, Clock]:
    stream, clock = io.StringIO(), Clock()
    return Progress(stream, enabled=enabled, label="abc123", clock=clock, width=lambda: 80), stream, clock


def test_parse_progress_takes_the_last_tqdm_percentage() -> None:
    logs = "loading\n  5%|▌         | 1/20 [00:00<00:01]\r 45%|████▌     | 9/20 [00:01<00:01]\r"
    assert parse_progress(logs) == 45
    assert parse_progress("no bars here, 50% done") is None
    assert parse_progress("") is None
    assert parse_progress(None) is None


def test_bar_and_elapsed_formats() -> None:
    assert bar(50, width=10) == "[#####-----]  50%"
    assert bar(0, width=4) == "[----]   0%"
    assert bar(100, width=4) == "[####] 100%"
    assert format_elapsed(4.24) == "4.2s"
    assert format_elapsed(185) == "3m05s"


def test_line_shows_status_elapsed_and_bar_from_logs() -> None:
    progress, stream, clock = make()
    clock.now += 2.5
    progress.update("processing", " 30%|███       | 3/10\r")
    line = stream.getvalue()
    assert line.startswith("\r")
    assert "abc123 processing 2.5s" in line
    assert "[######--------------]  30%" in line


def test_no_progress_bar_without_percentages() -> None:
    progress, stream, _ = make()
    progress.update("processing", "just a log line\n")
    assert "%" not in stream.getvalue()
    assert "[" not in stream.getvalue()


def test_clear_blanks_what_was_drawn_and_aside_redraws() -> None:
    progress, stream, _ = make()
    progress.update("starting")
    drawn = len(progress.line())
    stream.truncate(0)
    stream.seek(0)
    with progress.aside():
        stream.write("LOG\n")
    out = stream.getvalue()
    assert out.startswith("\r" + " " * drawn + "\r" + "LOG\n")
    assert out.endswith(progress.line())


def test_disabled_progress_writes_nothing() -> None:
    progress, stream, _ = make(enabled=False)
    progress.update("processing", " 10%|#")
    with progress.aside():
        pass
    progress.clear()
    assert stream.getvalue() == ""


def test_line_never_wider_than_the_terminal() -> None:
    stream = io.StringIO()
    progress = Progress(stream, enabled=True, label="x" * 200, width=lambda: 40)
    progress.update("processing", " 99%|")
    assert len(progress.line()) <= 39


def test_background_ticker_animates_then_stops_clean() -> None:
    async def scenario() -> str:
        progress, stream, _ = make()
        progress.start()
        await asyncio.sleep(0.35)
        progress.stop()
        return stream.getvalue()

    out = asyncio.run(scenario())
    frames = {line.split(" ")[0] for line in out.split("\r") if line.strip()}
    assert len(frames) >= 2  # the frame advanced while we waited
    assert out.endswith("\r")  # the line was cleared on stop


def test_aside_does_not_draw_a_spinner_that_was_not_showing() -> None:
    progress, stream, _ = make()
    with progress.aside():
        stream.write("LOG\n")
    assert stream.getvalue() == "LOG\n"
