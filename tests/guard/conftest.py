"""Fixtures for the guard tests: asyncio Redis clients and pools as the job runner's role
(tally_jobs), which the fencing and job-run functions belong to."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator

import asyncpg
import pytest
import redis.asyncio as aioredis

from server.core.config import JOBS_ROLE, with_user
from tests.support import ROOT, TEST_REDIS_URL

# run-once with only the standard library on its path: what launch-many starts by the
# thousand (the console script adds site-packages' start-up cost, same behaviour).
RUN_ONCE = [sys.executable, "-S", "-c", "from clients.run_once import entry; entry()"]
LAUNCH_MANY = [sys.executable, "-m", "clients.launch_many"]


def run_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "REDIS_URL": TEST_REDIS_URL, **extra}


@pytest.fixture
async def aredis(redis_client) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(TEST_REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
async def aredis2(redis_client) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(TEST_REDIS_URL)
    yield client
    await client.aclose()


async def app_pool(database_url: str) -> asyncpg.Pool:
    return await asyncpg.create_pool(with_user(database_url, JOBS_ROLE), min_size=1, max_size=2)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await app_pool(database_url)
    yield p
    await p.close()


@pytest.fixture
async def pool2(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await app_pool(database_url)
    yield p
    await p.close()
