"""Session fixtures: a fresh test database, a clean Redis database, a running server.

The test database (TEST_DATABASE_URL, default .../tally_test) is dropped and migrated
anew at the start of every run; it is never the database `make run` uses. Redis tests
use TEST_REDIS_URL (default database 15), flushed at the start.

`--shards N` (or TEST_SHARDS=N) makes the test database a PL/Proxy proxy in front of N
partition databases, as `SHARDS=N make run` does (tests/shards.py).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import psycopg
import pytest
import redis

from tests.shards import ShardedAdmin, recreate_sharded
from tests.support import TEST_DATABASE_URL, TEST_REDIS_URL, ServerProcess, recreate_database


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--shards", type=int, default=int(os.environ.get("TEST_SHARDS") or 0),
                     help="run against a PL/Proxy proxy with this many partition databases")


@pytest.fixture(scope="session")
def shards(request: pytest.FixtureRequest) -> int:
    """The number of partition databases behind the test database (0: a single one)."""
    return int(request.config.getoption("--shards"))


@pytest.fixture(scope="session")
def database_url(shards: int) -> str:
    if shards:
        recreate_sharded(TEST_DATABASE_URL, shards)
        return TEST_DATABASE_URL
    recreate_database(TEST_DATABASE_URL)
    with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as conn:
        # Test-only extensions: never created by migrate.
        conn.execute("create extension if not exists pgtap")
        conn.execute("create extension if not exists plpgsql_check")
    return TEST_DATABASE_URL


@pytest.fixture(scope="session")
def pgtap_connection(database_url: str) -> Iterator[psycopg.Connection]:
    """pytest-pgtap runs tests/sql/**/test_*.sql on this connection (as the owner of
    the test database's objects would: the admin user)."""
    with psycopg.connect(database_url) as conn:
        yield conn


@pytest.fixture(scope="session")
def admin_db(database_url: str, shards: int) -> Iterator[Any]:
    """A direct connection for checking what the database holds (autocommit); in the
    sharded mode, one that reads the partitions' tables (tests/shards.py)."""
    if shards:
        admin = ShardedAdmin(database_url, shards)
        yield admin
        admin.close()
        return
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(TEST_REDIS_URL, decode_responses=True)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(scope="session")
def server(database_url: str, redis_client: redis.Redis) -> Iterator[ServerProcess]:
    proc = ServerProcess(database_url).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
async def channel(server: ServerProcess) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(server.addr) as ch:
        yield ch
