"""Command-line tools and client helpers (stdlib-light: see run_once.py)."""
