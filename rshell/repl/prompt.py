"""What the prompt and the bottom toolbar say: pure functions of the session's state.

Kept apart from the application so they are tested without a terminal, and so the
toolbar (redrawn on every keystroke) stays a cheap read of in-memory values.
"""

from __future__ import annotations

from prompt_toolkit.formatted_text import StyleAndTextTuples

from rshell.client.urls import netloc_of
from rshell.rendering.sanitize import neutralise
from rshell.session.state import Session
from rshell.text import one_line

STYLE_RULES = {
    "prompt": "bold",
    "prompt.session": "ansicyan",
    "prompt.continuation": "ansibrightblack",
    "bottom-toolbar": "noreverse bg:#303030 #d0d0d0",
    "bottom-toolbar.account": "bold ansigreen",
    "bottom-toolbar.host": "ansicyan",
    "bottom-toolbar.busy": "bold ansiyellow",
    "bottom-toolbar.failed": "bold ansired",
    "bottom-toolbar.ok": "ansigreen",
}

_FAILED_STATUSES = {"failed", "canceled", "aborted", "error", "interrupted"}


def host_of(base_url: str) -> str:
    """The API's host:port, as the user would name it (no scheme, no /v1)."""
    return netloc_of(base_url) or "api.replicate.com"


def prompt_message(session: Session) -> StyleAndTextTuples:
    """`rshell> `, or `rshell[NAME]> ` in a named session so it is clear what persists."""
    parts: StyleAndTextTuples = [("class:prompt", "rshell")]
    if session.name != "default":
        parts += [("class:prompt.session", f"[{session.name}]")]
    return parts + [("class:prompt", "> ")]


def continuation(width: int, line_number: int, wrap_count: int) -> StyleAndTextTuples:
    """The margin of the second and later lines of a multi-line statement. A long line
    the terminal soft-wraps (`wrap_count` > 0) gets none: `...` there reads as a second
    statement, and the wrapped text carries on from the first column."""
    if wrap_count > 0:
        return []
    return [("class:prompt.continuation", "...".rjust(max(width - 1, 3)) + " ")]


def banner(base_url: str) -> str:
    """The one line the shell starts with: where it is connected and how to get help."""
    from rshell import __version__

    return f"rshell {__version__} on {host_of(base_url)}: `help` lists commands, Tab completes, Ctrl-D leaves"


def toolbar(
    session: Session, account: str | None, base_url: str, mode: str | None = None, width: int | None = None
) -> StyleAndTextTuples:
    """Account and host, predictions in flight, the last status, the next result's
    number (`next: _4`) and the editing mode.

    On a narrow terminal the least needed parts go first (host, then account, then
    the last status), so the editing mode at the end is never cut off."""
    who = _plain(account) or "(account unknown)"
    flight = len(session.in_flight)
    where: StyleAndTextTuples = [("class:bottom-toolbar", " @ "), ("class:bottom-toolbar.host", host_of(base_url))]
    last: StyleAndTextTuples = []
    if session.last_status:
        style = "failed" if session.last_status in _FAILED_STATUSES else "ok"
        last = [("class:bottom-toolbar", " | last: "), (f"class:bottom-toolbar.{style}", _plain(session.last_status))]
    head: StyleAndTextTuples = [("class:bottom-toolbar.account", f" {who}")]
    busy: StyleAndTextTuples = [
        ("class:bottom-toolbar", " | " if head else " "),
        ("class:bottom-toolbar.busy" if flight else "class:bottom-toolbar", f"{flight} in flight"),
    ]
    tail: StyleAndTextTuples = [("class:bottom-toolbar", f" | {mode or session.options.get('editing_mode', 'emacs')} ")]
    # Once results are numbered, the name the next one gets (IPython's In [n]).
    number: StyleAndTextTuples = []
    if session.numbered.next > 1:
        number = [("class:bottom-toolbar", f" | next: _{session.numbered.next}")]
    for drop in ("", "number", "where", "head", "last"):
        number = [] if drop == "number" else number
        where = [] if drop == "where" else where
        if drop == "head":
            head, busy[0] = [], ("class:bottom-toolbar", " ")
        last = [] if drop == "last" else last
        parts = head + where + busy + last + number + tail
        if width is None or sum(len(part[1]) for part in parts) <= width:
            break
    return parts


def _plain(text: str | None) -> str:
    """A server's text (account name, status) on one toolbar line, controls made visible."""
    return one_line(neutralise(text or ""))


def leave_question(in_flight: int) -> str:
    noun = "prediction" if in_flight == 1 else "predictions"
    return f"{in_flight} {noun} in flight; leave anyway? [y/N] "
