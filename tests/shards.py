"""The suites' sharded mode: `pytest --shards 2` (or TEST_SHARDS=2) runs them against a
proxy database (TEST_DATABASE_URL) routing to partition databases <db>_p0, <db>_p1, as
`SHARDS=2 make run` sets up; `make test` runs the clicks and booking suites so too.

Tests look at tables through `admin_db`; in the sharded mode that is a `ShardedAdmin`:
a query of clicks or booking tables runs on every partition, its rows merged
(`count(...)`/`sum(...)` aggregates added up), since those rows live there; anything else
(an API function's call, as a psql user's would, the other domains' tables, the server's
own views) goes to the proxy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from server.ops import shards

SHARDED_SCHEMA = re.compile(r"\b(clicks|booking)\.")
API_CALL = re.compile(r"\b(clicks|booking|plproxy)\.[a-z]\w*\s*\(")
# The application_name of ShardedAdmin's connections (a test taking a partition down
# leaves them be).
ADMIN_APPLICATION = "tally-tests-admin"
AGGREGATE = re.compile(r"^\s*select\s+(coalesce\()?\s*(count|sum)\(", re.I)


def recreate_sharded(url: str, count: int) -> None:
    """Drop the proxy at `url` and any partitions of it, then migrate them anew."""
    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        old = [r[0] for r in conn.execute(
            "select datname from pg_database where datname = %s or datname ~ %s",
            (name, "^" + re.escape(name) + r"_p[0-9]+$"))]
        for dbname in old:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(dbname)))
    shards.migrate_sharded(url, count)


def owner_url(url: str, count: int, row_id: int) -> str:
    """The database that holds the banner, event or booking `row_id`."""
    return shards.partition_url(url, row_id % count) if count else url


class Rows:
    def __init__(self, rows: Sequence[tuple[Any, ...]]) -> None:
        self.rows = list(rows)

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows


class ShardedAdmin:
    """admin_db of the sharded mode (see the module's doc)."""

    def __init__(self, url: str, count: int) -> None:
        self.proxy = psycopg.connect(url, autocommit=True, application_name=ADMIN_APPLICATION)
        self.partitions = [psycopg.connect(u, autocommit=True,
                                           application_name=ADMIN_APPLICATION)
                           for u in shards.partition_urls(url, count)]

    def execute(self, query: str, params: Sequence[Any] | None = None) -> Any:
        # (a relation named in a parameter counts: `select to_regclass(%s)`)
        named = " ".join([query, *(str(p) for p in params or ())])
        if API_CALL.search(query) or not SHARDED_SCHEMA.search(named):
            return self.proxy.execute(query, params)
        parts = [c.execute(query, params).fetchall() for c in self.partitions]
        if AGGREGATE.match(query) and all(len(p) == 1 for p in parts):
            return Rows([tuple(sum(p[0][i] or 0 for p in parts) for i in range(len(parts[0][0])))])
        return Rows([row for p in parts for row in p])

    def close(self) -> None:
        for c in [self.proxy, *self.partitions]:
            c.close()

