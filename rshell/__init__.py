"""rshell: an interactive shell and one-shot command line for the Replicate API."""

__version__ = "0.1.0"
