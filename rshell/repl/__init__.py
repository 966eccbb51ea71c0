"""The interactive shell (prompt-toolkit); loaded only when a terminal session starts."""
