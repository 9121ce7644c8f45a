"""Client helpers and command-line tools for tally."""
