"""prompt-toolkit adapter around rshell's completion engine.

The engine (rshell.completion) answers from its cache and asks the refresher to fetch
what is missing in the background, so a keystroke never waits on the network. When
the refresher brings new data, `refresh_menu` re-runs completion for the text still
under the cursor, so the menu fills in without another keypress.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Protocol

from prompt_toolkit.application import Application
from prompt_toolkit.application.current import set_app
from prompt_toolkit.buffer import CompletionState
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

log = logging.getLogger(__name__)


class Engine(Protocol):
    def complete(self, text_before_cursor: str) -> list[Any]: ...


class EngineCompleter(Completer):
    """Turns the engine's completions into prompt-toolkit's; never raises."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.last_text: str | None = None  # the text the last answer was for

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        text = document.text_before_cursor
        self.last_text = text
        try:
            found = self.engine.complete(text)
        except Exception:  # a completion bug must never break typing
            log.debug("completion failed for %r", text, exc_info=True)
            return
        for item in found:
            yield to_prompt_toolkit(item, text)


def to_prompt_toolkit(item: Any, text_before_cursor: str) -> Completion:
    """One engine completion; `start` (<= 0) is where the replaced text begins,
    relative to the cursor, as in prompt-toolkit (clamped to the text typed)."""
    from rshell.rendering.sanitize import neutralise

    start_position = max(min(int(item.start), 0), -len(text_before_cursor))
    display = getattr(item, "display", None) or None
    if display is None and neutralise(item.text) != item.text:
        display = item.text  # a name from the API with controls in it: show it inert
    meta = getattr(item, "meta", None) or None
    return Completion(
        item.text,
        start_position=start_position,
        display=neutralise(display) if isinstance(display, str) else display,
        display_meta=neutralise(meta) if isinstance(meta, str) else meta,
    )


def refresh_menu(app: Application[Any], completer: EngineCompleter) -> None:
    """Re-run completion after new data arrived, if the user is still where they were.

    A menu the user is navigating (an item selected) is left alone; an empty or
    unselected one is recomputed so newly fetched names appear.
    """
    if not app.is_running:
        return
    buffer = app.current_buffer
    if buffer.document.text_before_cursor != completer.last_text:
        app.invalidate()
        return
    state = buffer.complete_state
    if state is not None and state.complete_index is not None:
        app.invalidate()
        return
    # Replace the menu in one step (the engine answers from its cache at once): had it
    # gone through `complete_state = None` and a new async completion, a Tab pressed in
    # between would find no menu and only open one instead of taking the first entry.
    document = buffer.document
    completions = list(completer.get_completions(document, CompleteEvent()))
    with set_app(app):  # the callback may run outside the app's context
        buffer.complete_state = CompletionState(document, completions) if completions else None
    app.invalidate()
