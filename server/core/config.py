"""Configuration, read once from environment variables (README lists them all)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar
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


def is_loopback_addr(addr: str) -> bool:
    """Whether a listen address ('127.0.0.1:50051', '[::1]:50051', 'localhost:50051')
    is reachable from this machine only. Anything else (0.0.0.0, a host name, a unix
    socket) counts as reachable by others."""
    host, sep, _ = addr.rpartition(":")
    if not sep:
        return False
    host = host.removeprefix("[").removesuffix("]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


AUTH_MODES = ("required", "off")

T = TypeVar("T")


def _setting(name: str, default: T, parse: Callable[[str], T], what: str) -> T:
    """The environment variable `name` parsed, or `default` when it is unset or empty; a
    value that does not parse stops the process, naming the variable."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return parse(raw)
    except ValueError:
        raise SystemExit(f"{name} must be {what}, got {raw!r}") from None


def _int(name: str, default: int) -> int:
    return _setting(name, default, int, "an integer")


def _float(name: str, default: float) -> float:
    return _setting(name, default, float, "a number")


def _bool(name: str, default: bool) -> bool:
    return _setting(name, default,
                    lambda raw: raw.strip().lower() in {"1", "true", "yes", "on"}, "a boolean")


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
    statement_timeout_ms: int = 5000
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
    # AUTH: "required", "off", or "" for the default by address (see `auth_required`).
    auth: str = ""
    auth_cache_seconds: float = 5.0
    tls_cert_file: str = ""
    tls_key_file: str = ""
    tls_client_ca_file: str = ""
    # SHARDS: partition databases behind a PL/Proxy proxy (migrate, make run); 0 = one
    # database. The server itself is the same either way: it talks to DATABASE_URL.
    shards: int = 0

    @property
    def auth_required(self) -> bool:
        """API keys are required unless AUTH=off, or AUTH is unset and the server listens
        on a loopback address only (so `make run` and its examples need no key)."""
        if self.auth:
            return self.auth == "required"
        return not is_loopback_addr(self.grpc_addr)

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
            statement_timeout_ms=max(0, _int("STATEMENT_TIMEOUT_MS", 5000)),
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
            auth=_auth_mode(),
            auth_cache_seconds=max(0.0, _float("AUTH_CACHE_SECONDS", 5.0)),
            shards=max(0, _int("SHARDS", 0)),
            **_tls_files(),
        )


def _auth_mode() -> str:
    raw = (os.environ.get("AUTH") or "").strip().lower()
    if raw and raw not in AUTH_MODES:
        raise SystemExit(f"AUTH must be one of {', '.join(AUTH_MODES)}, got {raw!r}")
    return raw


def _tls_files() -> dict[str, str]:
    files = {"tls_cert_file": os.environ.get("TLS_CERT_FILE") or "",
             "tls_key_file": os.environ.get("TLS_KEY_FILE") or "",
             "tls_client_ca_file": os.environ.get("TLS_CLIENT_CA_FILE") or ""}
    if bool(files["tls_cert_file"]) != bool(files["tls_key_file"]):
        raise SystemExit("TLS_CERT_FILE and TLS_KEY_FILE go together: set both or neither")
    if files["tls_client_ca_file"] and not files["tls_cert_file"]:
        raise SystemExit("TLS_CLIENT_CA_FILE (client certificates) needs TLS_CERT_FILE and"
                         " TLS_KEY_FILE: mTLS is TLS first")
    return files
