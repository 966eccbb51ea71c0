"""Key bindings the shell adds to prompt-toolkit's Emacs and Vi sets.

What a person coming from IPython or ptpython expects: Up with text typed searches
history by that prefix (even while the completion menu, opened by typing, shows and
nothing in it is chosen); Tab moves through the menu (the only candidate is taken at
once) and never cycles back to the typed text; Enter takes the highlighted candidate
without running the line; Alt-Enter inserts a newline. Ctrl-X Ctrl-E (Emacs) and `v`
(Vi navigation) edit the line in $EDITOR through PromptSession's
`enable_open_in_editor`.
"""

from __future__ import annotations

from prompt_toolkit.filters import Condition, completion_is_selected, has_completions
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
    def _cycle(event: KeyPressEvent) -> None:
        """Tab highlights the next candidate (the first when none is), wrapping from the
        last to the first, never back to what was typed; the only one is taken at once."""
        buffer = event.current_buffer
        state = buffer.complete_state
        if state is None or not state.completions:
            return
        if len(state.completions) == 1:
            buffer.apply_completion(state.completions[0])
            return
        index = state.complete_index
        buffer.go_to_completion(0 if index is None else (index + 1) % len(state.completions))

    @bindings.add("enter", filter=completion_is_selected)
    def _take(event: KeyPressEvent) -> None:
        """Enter on a highlighted candidate takes it (as IPython does); the next Enter runs."""
        event.current_buffer.complete_state = None  # its text is in the line already: only the menu goes

    @bindings.add("escape", "enter")
    def _newline(event: KeyPressEvent) -> None:
        """Alt-Enter: a new line in the statement, whatever Enter would do."""
        event.current_buffer.insert_text("\n")

    return bindings
