"""The PostgreSQL pool the server works through, as the application role."""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from . import metrics
from .config import Settings


async def create_pool(settings: Settings, *, url: str | None = None, size: int | None = None,
                      name: str = "tally-server") -> asyncpg.Pool:
    """The RPC path's pool (as the application role), or with `url` another role's."""
    # A small pool: PostgreSQL does its best work with few busy connections, and the
    # batchers put many concurrent calls into one statement anyway.
    server_settings = {"application_name": name}
    if url is None:
        # The RPC path: no call holds a connection longer than STATEMENT_TIMEOUT_MS
        # (57014, answered DEADLINE_EXCEEDED STATEMENT_TIMEOUT), so no client can keep
        # the pool from everyone else. 0 turns it off.
        server_settings["statement_timeout"] = str(settings.statement_timeout_ms)
    return await asyncpg.create_pool(
        url or settings.app_database_url,
        min_size=size or settings.db_pool_size,
        max_size=size or settings.db_pool_size,
        command_timeout=30,
        server_settings=server_settings,
        reset=_keep_session,
    )


async def connect(settings: Settings, log: logging.Logger, *, name: str = "tally-server",
                  deadline: float = 30.0) -> asyncpg.Pool:
    """create_pool, retried while PostgreSQL is not there yet (a process started with or
    before it; each try's failure is a warning in the process's `log`); after `deadline`
    seconds the process gives up and exits."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline
    delay = 0.2
    while True:
        try:
            return await create_pool(settings, name=name)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            if loop.time() > give_up:
                raise SystemExit(f"cannot connect to PostgreSQL: {exc}") from exc
            log.warning("waiting for PostgreSQL: %s", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pool release hook: nothing to undo.

    asyncpg's default runs `RESET ALL; UNLISTEN *; CLOSE ALL; pg_advisory_unlock_all()`
    on every release - one more round trip per call. The server never leaves session
    state on a pooled connection: SQL functions set their search_path per call, locks are
    transaction-level, and LISTEN uses a connection of its own. asyncpg still rolls back
    a transaction left open before this hook runs.
    """


async def fetch_row(db: asyncpg.Pool | asyncpg.Connection, sql: str, *args: object
                    ) -> asyncpg.Record:
    """The row of a SQL function that always returns one (or raises its own error)."""
    row = await db.fetchrow(sql, *args)
    if row is None:
        raise RuntimeError(f"no row returned by: {sql}")
    return row


def record_pool_usage(pool: asyncpg.Pool) -> None:
    size, idle = pool.get_size(), pool.get_idle_size()
    metrics.POOL_CONNECTIONS.labels("in_use").set(size - idle)
    metrics.POOL_CONNECTIONS.labels("idle").set(idle)
    metrics.POOL_CONNECTIONS.labels("max").set(pool.get_max_size())
