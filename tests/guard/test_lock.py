"""server/jobs/lock.py: single holder, expiry, refused foreign release, extend, fencing tokens
strictly increasing per name, and a stale token refused by PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid

import asyncpg
import pytest

from clients import run_once
from server.jobs import lock, lock_protocol
from server.jobs.lock_protocol import fence_key, lock_key


def name() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


async def wait_expired(client, lock_name: str) -> None:
    """Until Redis itself has dropped the key (its TTL ran out), not a guessed sleep."""
    for _ in range(1000):
        if not await client.exists(lock_key(lock_name)):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"lock {lock_name} did not expire")


async def test_one_holder_at_a_time(aredis, aredis2):
    n = name()
    held = await lock.acquire(aredis, n, 10)
    assert held is not None and held.fence > 0
    assert await lock.acquire(aredis2, n, 10) is None
    assert await lock.acquire(aredis, n, 10) is None, "not re-entrant either"
    assert await held.release() is True
    again = await lock.acquire(aredis2, n, 10)
    assert again is not None and again.fence > held.fence
    await again.release()


async def test_concurrent_contenders_exactly_one_wins(aredis):
    n = name()
    results = await asyncio.gather(*(lock.acquire(aredis, n, 10) for _ in range(50)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    await winners[0].release()


async def test_lock_expires(aredis, aredis2):
    n = name()
    held = await lock.acquire(aredis, n, 0.2)
    assert held is not None
    pttl = await aredis.pttl(lock_key(n))
    assert 0 < pttl <= 200
    await wait_expired(aredis, n)
    assert not await held.owned()
    successor = await lock.acquire(aredis2, n, 10)
    assert successor is not None and successor.fence > held.fence
    await successor.release()


async def test_release_of_a_lock_taken_over_is_refused_and_warned(aredis, aredis2, caplog):
    n = name()
    first = await lock.acquire(aredis, n, 0.2)
    await wait_expired(aredis, n)
    second = await lock.acquire(aredis2, n, 10)
    assert second is not None
    with caplog.at_level(logging.WARNING, logger="tally.lock"):
        assert await first.release() is False
    assert "no longer ours" in caplog.text
    assert await second.owned(), "the other holder's lock was left alone"
    assert (await aredis.get(lock_key(n))) == second.token
    assert await second.release() is True


async def test_extend(aredis):
    n = name()
    held = await lock.acquire(aredis, n, 1)
    assert await held.extend(30) is True
    assert await aredis.pttl(lock_key(n)) > 20_000
    await held.release()
    assert await held.extend(30) is False, "a released lock cannot be extended"
    assert not await aredis.exists(lock_key(n))


async def test_extend_refused_after_takeover(aredis, aredis2):
    n = name()
    first = await lock.acquire(aredis, n, 0.2)
    await wait_expired(aredis, n)
    second = await lock.acquire(aredis2, n, 5)
    assert await first.extend(60) is False
    assert 0 < await aredis.pttl(lock_key(n)) <= 5000, "the new holder's ttl is untouched"
    await second.release()


async def test_fencing_tokens_strictly_increase(aredis, aredis2):
    n = name()
    fences = []
    for i in range(100):
        held = await lock.acquire(aredis if i % 2 else aredis2, n, 10)
        fences.append(held.fence)
        await held.release()
    assert all(a < b for a, b in itertools.pairwise(fences))


async def test_fencing_tokens_increase_even_if_the_counter_is_lost(aredis):
    n = name()
    held = await lock.acquire(aredis, n, 10)
    await held.release()
    await aredis.delete(fence_key(n))  # a flushed or replaced Redis
    after = await lock.acquire(aredis, n, 10)
    assert after.fence > held.fence
    await after.release()


async def test_stale_fencing_token_is_rejected_by_sql(aredis, aredis2, pool):
    """Kleppmann's case: the first holder pauses past its ttl, a second takes over and
    writes; the first wakes up and tries to write with its old token."""
    n = name()
    paused = await lock.acquire(aredis, n, 0.2)
    await wait_expired(aredis, n)
    successor = await lock.acquire(aredis2, n, 10)
    assert await pool.fetchval("select tally.check_fence($1, $2)", n,
                               successor.fence) == successor.fence
    with pytest.raises(asyncpg.PostgresError) as caught:
        await pool.fetchval("select tally.check_fence($1, $2)", n, paused.fence)
    assert caught.value.sqlstate == "TLFP1"
    assert caught.value.detail == "STALE_FENCING_TOKEN"
    await successor.release()


def test_both_sides_take_the_protocol_from_one_module():
    """run-once speaks the protocol without redis-py; neither side keeps a copy to drift."""
    assert run_once.NEXT_FENCE_SCRIPT is lock.NEXT_FENCE_SCRIPT is lock_protocol.NEXT_FENCE_SCRIPT
    assert run_once.lock_key is lock.lock_key is lock_protocol.lock_key
    assert run_once.fence_key is lock.fence_key is lock_protocol.fence_key


async def test_the_release_script_deletes_only_the_lock_it_holds(aredis):
    """run-once's release against a lock redis-py took: a foreign token leaves it alone."""
    n = name()
    held = await lock.acquire(aredis, n, 30)
    assert await aredis.eval(lock_protocol.RELEASE_SCRIPT, 1, lock_key(n), b"not-ours") == 0
    assert await held.owned()
    assert await aredis.eval(lock_protocol.RELEASE_SCRIPT, 1, lock_key(n), held.token) == 1
    assert not await aredis.exists(lock_key(n))
    assert not await held.release(), "released already"


async def test_acquire_rejects_a_nonpositive_ttl(aredis):
    with pytest.raises(ValueError):
        await lock.acquire(aredis, name(), 0)
