"""Session state: variables, aliases, options, history and their persistence."""
