"""rshell: an interactive shell and one-shot command line for the Replicate API."""

import sys

__version__ = "0.1.0"

# httpx's package imports its own command-line tool (`httpx._main`: click, rich and
# pygments, about 40 ms) whenever click is importable, and rshell never runs it. A
# None entry in sys.modules makes an import of that name raise ImportError (the
# import system's documented rule), which httpx catches and replaces by a stub
# `main`. Set here because every rshell module that imports httpx comes after this.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
