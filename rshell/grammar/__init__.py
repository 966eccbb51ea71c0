"""The grammar of rshell lines: words, statements, templates, inputs, aliases."""
