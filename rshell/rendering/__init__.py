"""Rendering: what reaches the terminal, and how it is made safe to print."""
