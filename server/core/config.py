"""Configuration, read once from environment variables (README lists them all)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/tally"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

# Roles created by `server.ops.migrate`: the owner of every object, and the role the server
# (and any psql user) works as. The application role can only EXECUTE API functions
# and SELECT published views.
OWNER_ROLE = "tally_owner"
APP_ROLE = "tally_app"
# The job runner's login role: the job and maintenance functions (fencing, job-run records,
# partition maintenance, report generation, statistics folds, expiry sweeps) and nothing
# else. Operators run those by hand through the NOLOGIN role OPERATOR_ROLE, which is a
# member of it; grant OPERATOR_ROLE to a person's own login role.
JOBS_ROLE = "tally_jobs"
OPERATOR_ROLE = "tally_operator"


def with_user(url: str, user: str) -> str:
    """The same PostgreSQL URL with another user name (the password is dropped)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}@{host}" if host else f"{user}@"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def with_database(url: str, dbname: str) -> str:
    """The same PostgreSQL URL naming another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{dbname}", parts.query, parts.fragment))


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from None


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from None


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    app_database_url: str = field(default_factory=lambda: with_user(DEFAULT_DATABASE_URL, APP_ROLE))
    jobs_database_url: str = field(
        default_factory=lambda: with_user(DEFAULT_DATABASE_URL, JOBS_ROLE))
    redis_url: str = DEFAULT_REDIS_URL
    grpc_addr: str = "127.0.0.1:50051"
    metrics_addr: str = "127.0.0.1:9464"
    workers: int = 1
    jobs: bool = True
    db_pool_size: int = 4
    grace_seconds: float = 10.0
    health_interval: float = 2.0
    log_level: str = "INFO"
    redis_timeout: float = 0.25
    event_cache_ttl: int = 60
    product_cache_ttl: int = 600
    user_cache_ttl: int = 3600
    rate_limit_max: int = 100
    rate_limit_window_ms: int = 60_000
    batch_max_size: int = 256
    batch_max_inflight: int = 1

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        database_url = env.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        return cls(
            database_url=database_url,
            app_database_url=env.get("APP_DATABASE_URL") or with_user(database_url, APP_ROLE),
            jobs_database_url=(env.get("JOBS_DATABASE_URL")
                               or with_user(database_url, JOBS_ROLE)),
            redis_url=env.get("REDIS_URL") or DEFAULT_REDIS_URL,
            grpc_addr=env.get("GRPC_ADDR") or "127.0.0.1:50051",
            metrics_addr=env.get("METRICS_ADDR", "127.0.0.1:9464"),
            workers=max(1, _int("WORKERS", 1)),
            jobs=_bool("JOBS", True),
            db_pool_size=max(1, _int("DB_POOL_SIZE", 4)),
            grace_seconds=_float("GRACE_SECONDS", 10.0),
            health_interval=_float("HEALTH_INTERVAL", 2.0),
            log_level=(env.get("LOG_LEVEL") or "INFO").upper(),
            redis_timeout=_float("REDIS_TIMEOUT", 0.25),
            event_cache_ttl=_int("EVENT_CACHE_TTL", 60),
            product_cache_ttl=_int("PRODUCT_CACHE_TTL", 600),
            user_cache_ttl=_int("USER_CACHE_TTL", 3600),
            rate_limit_max=_int("RATE_LIMIT_MAX", 100),
            rate_limit_window_ms=_int("RATE_LIMIT_TIME_WINDOW", 60_000),
            batch_max_size=max(1, _int("BATCH_MAX_SIZE", 256)),
            batch_max_inflight=max(1, _int("BATCH_MAX_INFLIGHT", 1)),
        )
