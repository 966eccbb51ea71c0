"""Nothing typed at the prompt may end the shell or print a traceback.

Terminals send escape sequences for mouse reports and colours, and a paste without
bracketed paste delivers them as keys: `ESC [ 5 M` or `ESC [ 31 m` look like
mouse reports to prompt-toolkit, whose handler then raises on the missing fields.
An exception in any key handler also breaks prompt-toolkit's key processor for the
rest of the session. So: malformed mouse reports are ignored; every key handler's
exception is reported in one line and the prompt goes on; callbacks that fail in
the event loop are said in one line too, and prompt-toolkit's late SIGINT callback
after a prompt ended ("Application is not running") is ignored, since the Ctrl-C
it carried is the running statement's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from prompt_toolkit.application import Application, run_in_terminal
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.key_binding.bindings.mouse import load_mouse_bindings
from prompt_toolkit.keys import Keys

log = logging.getLogger(__name__)

Report = Callable[[str], None]  # says one line to the user


def mouse_bindings() -> KeyBindings:
    """prompt-toolkit's mouse handling, with reports it cannot read ignored."""
    bindings = KeyBindings()
    (original,) = load_mouse_bindings().get_bindings_for_keys((Keys.Vt100MouseEvent,))

    @bindings.add(Keys.Vt100MouseEvent)
    def _mouse(event: KeyPressEvent) -> Any:
        try:
            return original.handler(event)
        except (ValueError, KeyError, IndexError, TypeError):
            log.debug("ignored a malformed mouse report %r", event.data)
            return None

    return bindings


def guard_keys(app: Application[Any], report: Report) -> None:
    """Make an exception in any key handler one reported line, not a broken prompt.

    prompt-toolkit calls every handler through its key processor's `_call_handler`;
    an exception there would end the generator that reads keys. When a future
    prompt-toolkit names it otherwise this does nothing (the mouse fix still holds).
    """
    processor = app.key_processor
    call = getattr(processor, "_call_handler", None)
    if call is None:
        return

    def guarded(*args: Any, **kwargs: Any) -> None:
        try:
            call(*args, **kwargs)
        except Exception as error:
            log.debug("key handler failed", exc_info=True)
            report(f"a key was ignored: {type(error).__name__}: {error}")

    processor._call_handler = guarded  # type: ignore[method-assign]


def loop_errors(report: Report) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
    """An event-loop exception handler that says a failed callback in one line."""

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        where = repr(context.get("handle") or context.get("future") or "")
        if _late_sigint(error, where):
            log.debug("Ctrl-C after the prompt ended: %s", where)
            return
        log.debug("event loop error: %s", context.get("message"), exc_info=error)
        text = f"{type(error).__name__}: {error}" if error is not None else str(context.get("message"))
        report(f"internal error (the shell goes on): {text}")

    return handle


def _late_sigint(error: BaseException | None, where: str) -> bool:
    return "send_sigint" in where or (isinstance(error, Exception) and "Application is not running" in str(error))


def say_above_prompt(app: Application[Any], say: Callable[[], None]) -> None:
    """Print over a running prompt (it is redrawn after), or straight out otherwise."""
    if app.is_running:
        run_in_terminal(say)
    else:
        say()
