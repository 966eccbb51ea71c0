"""Key bindings the shell adds to prompt-toolkit's Emacs and Vi sets.

What a person coming from IPython or ptpython expects: Up with text typed searches
history by that prefix (even while the completion menu, opened by typing, shows and
nothing in it is chosen); Tab accepts the highlighted completion instead of cycling
back to the typed text; Alt-Enter inserts a newline. Ctrl-X Ctrl-E (Emacs) and `v`
(Vi navigation) edit the line in $EDITOR through PromptSession's
`enable_open_in_editor`.
"""

from __future__ import annotations

from prompt_toolkit.filters import Condition, has_completions
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent


@Condition
def _menu_without_choice() -> bool:
    from prompt_toolkit.application import get_app

    state = get_app().current_buffer.complete_state
    return state is not None and state.current_completion is None


def key_bindings() -> KeyBindings:
    """The shell's own bindings, merged over prompt-toolkit's defaults."""
    bindings = KeyBindings()

    @bindings.add("up", filter=_menu_without_choice)
    def _history_prefix(event: KeyPressEvent) -> None:
        """The menu popped up by itself: Up still means history, searched by the prefix."""
        buffer = event.current_buffer
        buffer.cancel_completion()
        buffer.history_backward(count=event.arg)

    @bindings.add("tab", filter=has_completions)
    def _accept_or_choose(event: KeyPressEvent) -> None:
        """Tab takes the highlighted candidate; with none highlighted, the first
        (or the only one); it never cycles back to what was typed."""
        buffer = event.current_buffer
        state = buffer.complete_state
        if state is None:
            return
        chosen = state.current_completion
        if chosen is None and len(state.completions) == 1:
            chosen = state.completions[0]
        if chosen is not None:
            buffer.apply_completion(chosen)
        else:
            buffer.complete_next()

    @bindings.add("escape", "enter")
    def _newline(event: KeyPressEvent) -> None:
        """Alt-Enter: a new line in the statement, whatever Enter would do."""
        event.current_buffer.insert_text("\n")

    return bindings
