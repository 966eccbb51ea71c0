"""Completion: what fits at the cursor, how it ranks, and the background refresher."""
