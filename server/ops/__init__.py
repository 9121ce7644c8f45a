"""Tools that never run inside the server: migrate, development services, healthcheck."""
