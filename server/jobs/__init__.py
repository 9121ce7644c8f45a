"""Scheduled SQL jobs, the runner that runs them, and the Redis lock that fences them."""
