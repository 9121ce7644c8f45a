"""The helpers in server/core that the domains share, on their own: outcome rows of batch
functions (rows made by PostgreSQL), request values to SQL and back, the cache's
read-through (on the test Redis)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import asyncpg
import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from tally.shop.v1 import shop_pb2

from server.core import convert, errors
from server.core.cache import CachedById, RedisStore
from tests.support import TEST_REDIS_URL, cached, free_port, plant

OUTCOME_SQL = """
select v.*
  from (values ($1::bigint, $2::text, $3::text, $4::text, $5::text, $6::text))
       as v (id, error_sqlstate, error_reason, error_message, error_field, error_hint)
"""


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    c = await asyncpg.connect(database_url)
    yield c
    await c.close()


async def outcome_row(conn: asyncpg.Connection, sqlstate: str | None = None,
                      reason: str | None = None, message: str | None = None,
                      field: str | None = None, hint: str | None = None) -> asyncpg.Record:
    return await conn.fetchrow(OUTCOME_SQL, 7, sqlstate, reason, message, field, hint)


async def test_an_outcome_row_without_error_is_the_value(conn):
    row = await outcome_row(conn)
    assert errors.outcome(row, lambda r: r["id"] * 2) == 14


async def test_an_outcome_row_with_a_domain_error_keeps_its_reason_and_field(conn):
    row = await outcome_row(conn, "TLIA1", "USER_ID_INVALID", "user_id is too long",
                            "user_id")
    error = errors.outcome(row, lambda r: r["id"])
    assert isinstance(error, errors.RpcError)
    assert (error.code, error.reason, error.message, error.field, error.sqlstate) == (
        grpc.StatusCode.INVALID_ARGUMENT, "USER_ID_INVALID", "user_id is too long",
        "user_id", "TLIA1")


async def test_an_outcome_row_hint_becomes_precondition_failure(conn):
    hint = ('{"precondition_failure": [{"type": "STOCK", "subject": "product/3",'
            ' "description": "2 left"}]}')
    error = errors.from_outcome(await outcome_row(
        conn, "TLFP1", "INSUFFICIENT_STOCK", "not enough stock", None, hint))
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION
    [details] = error.details
    assert isinstance(details, error_details_pb2.PreconditionFailure)
    assert [(v.type, v.subject, v.description) for v in details.violations] == [
        ("STOCK", "product/3", "2 left")]


async def test_an_outcome_row_without_a_hint_column_is_read_too(conn):
    row = await conn.fetchrow("select 'TLNF1' as error_sqlstate, 'EVENT_NOT_FOUND' as"
                              " error_reason, 'no such event' as error_message,"
                              " 'event_id' as error_field")
    error = errors.from_outcome(row)
    assert (error.code, error.reason, error.details) == (
        grpc.StatusCode.NOT_FOUND, "EVENT_NOT_FOUND", [])


async def test_an_unknown_sqlstate_in_an_outcome_row_is_internal_and_generic(conn, caplog):
    row = await outcome_row(conn, "XX000", "SECRET_REASON", "secret table t_1 is broken",
                            "secret_column")
    error = errors.outcome(row, lambda r: r["id"])
    assert isinstance(error, errors.RpcError)
    assert (error.code, error.message, error.reason, error.field) == (
        grpc.StatusCode.INTERNAL, "internal error", "INTERNAL", None)
    assert "secret table t_1 is broken" in caplog.text, "the detail goes to the log"


async def test_timestamps_from_sql_keep_the_instant_and_null_stays_unset(conn):
    when, nothing = await conn.fetchrow(
        "select timestamptz '2026-03-01 10:00:00.123456+02', null::timestamptz")
    ts = convert.timestamp(when)
    assert (ts.seconds, ts.nanos) == (
        int(datetime(2026, 3, 1, 8, tzinfo=UTC).timestamp()), 123_456_000)
    assert convert.timestamp(nothing) is None


def test_a_request_timestamp_becomes_an_aware_utc_datetime():
    ts = Timestamp(seconds=1_772_359_200, nanos=5_000)
    got = convert.to_datetime("ts_from", ts, "RANGE_INVALID")
    assert got == datetime(2026, 3, 1, 10, 0, 0, 5, tzinfo=UTC)
    assert got.utcoffset() == timedelta(0)
    assert got.astimezone(timezone(timedelta(hours=2))).hour == 12


def test_a_request_timestamp_out_of_range_is_the_callers_mistake():
    with pytest.raises(errors.RpcError) as caught:
        convert.to_datetime("ts_to", Timestamp(seconds=10**12), "RANGE_INVALID")
    assert (caught.value.code, caught.value.reason, caught.value.field) == (
        grpc.StatusCode.INVALID_ARGUMENT, "RANGE_INVALID", "ts_to")


def test_text_with_nul_is_refused_naming_the_field():
    assert convert.text("name", "fine") == "fine"
    assert convert.text("description", None) is None
    with pytest.raises(errors.RpcError) as caught:
        convert.text("zip_code", "12\x0034")
    assert (caught.value.code, caught.value.reason, caught.value.field) == (
        grpc.StatusCode.INVALID_ARGUMENT, "ZIP_CODE_INVALID", "zip_code")
    with pytest.raises(errors.RpcError) as caught:
        convert.text("add", "\x00", "SLUG_INVALID")
    assert (caught.value.reason, caught.value.field) == ("SLUG_INVALID", "add")


def test_a_flat_message_round_trips_through_the_cache_json():
    product = shop_pb2.Product(
        id=3, name="n", price="1.50", stock_quantity=0, category_id=9,
        created_at=Timestamp(seconds=1_772_359_200, nanos=123_456_000))
    stored = json.loads(json.dumps(convert.to_json(product)))
    assert stored == {"id": 3, "name": "n", "price": "1.50", "category_id": 9,
                      "created_at": {"seconds": 1_772_359_200, "nanos": 123_456_000}}
    back = convert.from_json(shop_pb2.Product, stored)
    assert back == product
    assert not back.HasField("updated_at") and not back.HasField("description")


def test_a_message_the_cache_json_does_not_fit_is_refused():
    order = shop_pb2.Order(id=1, items=[shop_pb2.OrderItem(product_id=2, quantity=1)])
    with pytest.raises(TypeError):
        json.dumps(convert.to_json(order))


@pytest.fixture
async def store(redis_client) -> AsyncIterator[RedisStore]:
    s = RedisStore(TEST_REDIS_URL, timeout=1.0)
    s.listening = True  # as if its worker's CacheListener were up
    yield s
    await s.close()


class Loader:
    """A load() that counts its calls and can run something while 'reading the database'."""

    def __init__(self, value: list[int], during=None) -> None:
        self.value, self.during, self.calls = value, during, 0

    async def __call__(self) -> list[int]:
        self.calls += 1
        if self.during is not None:
            await self.during()
        return self.value


def key() -> str:
    return f"tally:test:{uuid.uuid4().hex}"


async def read(store: RedisStore, k: str, load: Loader, ttl_ms: int = 60_000) -> list[int]:
    return await store.read_through(k, load, ttl_ms=ttl_ms, encode=lambda v: {"v": v},
                                    decode=lambda j: j["v"])


async def test_read_through_loads_once_then_serves_the_cached_json(store, redis_client):
    k, load = key(), Loader([1, 2])
    assert await read(store, k, load, ttl_ms=30_000) == [1, 2]
    assert cached(redis_client, k) == {"v": [1, 2]}
    assert 0 < redis_client.pttl(k) <= 30_000
    plant(redis_client, k, {"v": [7]}, px=30_000)  # what is cached is the answer
    assert await read(store, k, load) == [7]
    assert load.calls == 1


async def test_read_through_does_not_cache_what_was_invalidated_while_loading(
        store, redis_client):
    k = key()
    load = Loader([1], during=lambda: store.invalidate([k]))  # a writer committed meanwhile
    assert await read(store, k, load) == [1]
    assert redis_client.get(k) is None, "the old value was not put back"
    assert await read(store, k, Loader([2])) == [2]
    assert cached(redis_client, k) == {"v": [2]}


async def test_replace_caches_the_committed_value_over_an_older_one(store, redis_client):
    k = key()
    await read(store, k, Loader([1]))
    await store.replace(k, {"v": [2]}, 10_000)
    assert cached(redis_client, k) == {"v": [2]}
    assert 0 < redis_client.pttl(k) <= 10_000
    assert await read(store, k, Loader([3])) == [2]


async def test_read_through_without_redis_loads_every_time():
    dead = RedisStore(f"redis://127.0.0.1:{free_port()}/0", timeout=0.2, backoff=0.0)
    dead.listening = True
    try:
        load = Loader([5])
        assert await read(dead, key(), load) == [5]
        assert await read(dead, key(), load) == [5]
        assert load.calls == 2
    finally:
        await dead.close()


async def test_cached_by_id_caches_rows_not_mistakes(store, redis_client):
    prefix = key()
    loaded: list[int] = []

    async def load(row_id: int) -> tuple[int, str]:
        loaded.append(row_id)
        return row_id, f"row {row_id}"

    rows = CachedById(store, "test.row", lambda i: f"{prefix}:{i}", 30, load,
                      encode=lambda row: row[1], decode=lambda row_id, v: (row_id, v))
    assert await rows.get(4) == (4, "row 4")
    assert await rows.get(4) == (4, "row 4")
    assert cached(redis_client, f"{prefix}:4") == "row 4"
    assert 0 < redis_client.pttl(f"{prefix}:4") <= 30_000
    assert await rows.get(0) == (0, "row 0"), "an id below 1 goes to SQL..."
    assert await rows.get(0) == (0, "row 0")
    assert redis_client.get(f"{prefix}:0") is None, "... and is never cached"
    assert loaded == [4, 0, 0]
    await rows.replace(4, (4, "renamed"))
    assert await rows.get(4) == (4, "renamed")
    await rows.invalidate([4])
    assert redis_client.get(f"{prefix}:4") is None
    assert await rows.get(4) == (4, "row 4") and loaded == [4, 0, 0, 4]


async def test_concurrent_reads_share_one_mget_and_each_gets_its_own_value(
        store, redis_client):
    keys = [key() for _ in range(8)]
    for i, k in enumerate(keys[:6]):  # the last two are not cached
        plant(redis_client, k, {"v": [i]}, px=30_000)
    mgets = 0
    real_mget = store.client.mget

    async def counting_mget(*names):
        nonlocal mgets
        mgets += 1
        return await real_mget(*names)

    store.client.mget = counting_mget  # the real client, counted
    wanted = [keys[i % 8] for i in range(40)]  # every key several times
    loads = {k: Loader([100 + i]) for i, k in enumerate(keys)}
    got = await asyncio.gather(*(read(store, k, loads[k]) for k in wanted))
    assert got == [[i % 8] if i % 8 < 6 else [100 + i % 8] for i in range(40)]
    assert mgets == 1, "40 concurrent reads of 8 keys went to Redis in one MGET"
    assert cached(redis_client, keys[7]) == {"v": [107]}, "a miss is cached as before"


async def test_a_read_that_is_cancelled_while_waiting_does_not_stall_the_others(store):
    k = key()
    waiting = asyncio.ensure_future(read(store, k, Loader([1])))
    others = [asyncio.ensure_future(read(store, k, Loader([2]))) for _ in range(3)]
    await asyncio.sleep(0)
    waiting.cancel()
    results = await asyncio.gather(*others)
    assert all(r in ([1], [2]) for r in results)
    assert waiting.cancelled()
