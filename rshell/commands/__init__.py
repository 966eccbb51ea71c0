"""Commands: declared once in `catalog`, parsed by `arguments`, run by their handlers."""
