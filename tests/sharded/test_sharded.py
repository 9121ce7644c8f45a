"""The sharded mode's own guarantees, end to end over gRPC against a proxy and its
partitions: where rows go, reads merged across partitions, the jobs on every partition,
and a partition that is down failing only its own keys."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import asyncpg
import grpc
import psycopg
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from tally.booking.v1 import booking_pb2 as bpb
from tally.booking.v1 import booking_pb2_grpc as bpb_grpc
from tally.clicks.v1 import clicks_pb2 as cpb
from tally.clicks.v1 import clicks_pb2_grpc as cpb_grpc

from server.core.config import JOBS_ROLE, with_user
from server.domains import clicks
from server.ops import shards as shard_ops
from tests.shards import ADMIN_APPLICATION
from tests.support import ServerProcess, reason_of

T = TypeVar("T")


@pytest.fixture(scope="module")
def booking(channel: grpc.aio.Channel) -> bpb_grpc.BookingServiceStub:
    return bpb_grpc.BookingServiceStub(channel)


@pytest.fixture(scope="module")
def clicks_stub(channel: grpc.aio.Channel) -> cpb_grpc.ClickServiceStub:
    return cpb_grpc.ClickServiceStub(channel)


@pytest.fixture
def partitions(database_url: str, shards: int) -> Iterator[list[psycopg.Connection]]:
    conns = [psycopg.connect(u, autocommit=True)
             for u in shard_ops.partition_urls(database_url, shards)]
    yield conns
    for c in conns:
        c.close()


def ids_on(conn: psycopg.Connection, table: str) -> set[int]:
    return {r[0] for r in conn.execute(
        sql.SQL("select id from {}").format(sql.Identifier(*table.split("."))))}


@contextlib.contextmanager
def partition_down(database_url: str, index: int) -> Iterator[None]:
    """Partition `index` refuses connections and loses the ones it had, as if its server
    were down, until the block ends."""
    name = conninfo_to_dict(shard_ops.partition_url(database_url, index))["dbname"]
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("alter database {} allow_connections false").format(
            sql.Identifier(name)))
        try:
            admin.execute("select pg_terminate_backend(pid) from pg_stat_activity"
                          " where datname = %s and application_name <> %s",
                          (name, ADMIN_APPLICATION))
            yield
        finally:
            admin.execute(sql.SQL("alter database {} allow_connections true").format(
                sql.Identifier(name)))


async def retry_unavailable(call: Callable[[], Awaitable[T]], attempts: int = 8) -> T:
    for _ in range(attempts - 1):
        try:
            return await call()
        except grpc.aio.AioRpcError as err:
            if err.code() != grpc.StatusCode.UNAVAILABLE:
                raise
            await asyncio.sleep(0.1)
    return await call()


def test_the_cluster_lists_the_partitions(admin_db, database_url, shards):
    listed = [r[0] for r in admin_db.execute(
        "select * from plproxy.get_cluster_partitions('tally')").fetchall()]
    assert len(listed) == shards
    for i, conninfo in enumerate(listed):
        params = conninfo_to_dict(conninfo)
        assert params["dbname"] == f"{conninfo_to_dict(database_url)['dbname']}_p{i}"
        assert params["user"] == "tally_app"


async def test_rows_of_different_keys_sit_on_different_partitions(
        booking, clicks_stub, partitions, shards):
    events = [await booking.CreateEvent(bpb.CreateEventRequest(name=f"Placed {i}",
                                                               total_seats=5))
              for i in range(12)]
    banners = [await clicks_stub.CreateBanner(cpb.CreateBannerRequest(name=f"Placed {i}"))
               for i in range(12)]
    bookings = [await booking.ReserveSeat(bpb.ReserveSeatRequest(event_id=e.id, user_id="p"))
                for e in events]
    for table, made in (("booking.events", {e.id for e in events}),
                        ("clicks.banners", {b.id for b in banners}),
                        ("booking.bookings", {b.id for b in bookings})):
        held = [ids_on(conn, table) & made for conn in partitions]
        # each row on exactly one partition, the one its id names, and every partition used
        assert set().union(*held) == made
        assert sum(len(h) for h in held) == len(made)
        for index, ids in enumerate(held):
            assert ids, f"{table}: nothing on partition {index}"
            assert all(i % shards == index for i in ids)
    # a booking sits with its event
    for b in bookings:
        assert b.id % shards == b.event_id % shards


async def test_lists_page_in_id_order_across_partitions(booking, clicks_stub, partitions):
    for i in range(7):
        await booking.CreateEvent(bpb.CreateEventRequest(name=f"Paged {i}", total_seats=1))
    everywhere = sorted(set().union(*(ids_on(c, "booking.events") for c in partitions)))
    seen: list[int] = []
    token = ""
    while True:
        page = await booking.ListEvents(bpb.ListEventsRequest(page_size=3, page_token=token))
        seen += [e.id for e in page.events]
        token = page.next_page_token
        if not token:
            break
    assert seen == everywhere
    banners = sorted(set().union(*(ids_on(c, "clicks.banners") for c in partitions)))
    page = await clicks_stub.ListBanners(cpb.ListBannersRequest(page_size=100))
    assert [b.id for b in page.banners] == banners[:100]


async def test_user_booking_stats_sum_over_partitions(booking, shards):
    who = f"everywhere-{uuid.uuid4().hex[:8]}"
    events = [await booking.CreateEvent(bpb.CreateEventRequest(name="Sum", total_seats=3))
              for _ in range(4 * shards)]
    assert {e.id % shards for e in events} == set(range(shards))
    for e in events:
        await booking.ReserveSeat(bpb.ReserveSeatRequest(event_id=e.id, user_id=who))
    stats = await booking.GetUserBookingStats(bpb.GetUserBookingStatsRequest(user_id=who))
    assert (stats.user_id, stats.bookings_count) == (who, len(events))


async def test_the_clicks_job_runs_on_every_partition(database_url, partitions):
    at = datetime.now(UTC) + timedelta(days=20)
    conn = await asyncpg.connect(with_user(database_url, JOBS_ROLE))
    try:
        created = await conn.fetchval(clicks.JOBS[0].sql, at)
        assert await conn.fetchval(clicks.JOBS[0].sql, at) == 0  # idempotent
    finally:
        await conn.close()
    name = f"clicks.minute_counts_p{(at + timedelta(days=7)).strftime('%Y%m%d')}"
    for p in partitions:
        assert p.execute("select to_regclass(%s) is not null", (name,)).fetchone()[0]
    # every partition made the same new days: the run's rows are theirs added up
    assert created % len(partitions) == 0 and created >= 2 * len(partitions)


async def test_errors_read_as_from_one_database(clicks_stub, booking):
    """Status, reason and message come through the proxy as one database gives them."""
    now = int(time.time())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await clicks_stub.GetStats(cpb.GetStatsRequest(
            banner_id=2, ts_from=Timestamp(seconds=now), ts_to=Timestamp(seconds=now - 3600)))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason_of(caught.value) == "RANGE_REVERSED"
    assert "REMOTE" not in caught.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await booking.GetEvent(bpb.GetEventRequest(event_id=10**12 + 2))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert reason_of(caught.value) == "EVENT_NOT_FOUND"
    assert caught.value.details() == f"event {10**12 + 2} not found"


ROLE_FUNCTIONS = """
select r.rolname, p.oid::regprocedure::text
  from pg_proc p
  join pg_namespace n on n.oid = p.pronamespace
 cross join (values ('tally_app'), ('tally_jobs'), ('tally_operator'), ('public')) r (rolname)
 where n.nspname in ('tally', 'clicks', 'booking', 'segments', 'shop', 'plproxy')
   and case when r.rolname = 'public'
            then coalesce(p.proacl, acldefault('f', p.proowner))::text ~ '(^|[{,])=X'
            else has_function_privilege(r.rolname, p.oid, 'execute') end
 order by 1, 2
"""


def test_the_proxy_grants_what_a_single_database_grants(database_url, partitions):
    """Least privilege on the proxy too: each role may execute the same API functions as
    on a single database (a partition is one), nothing of the routing beneath them."""
    with psycopg.connect(database_url) as proxy:
        on_proxy = proxy.execute(ROLE_FUNCTIONS).fetchall()
        assert proxy.execute(
            "select has_table_privilege('tally_app', 'plproxy.partitions', 'select')"
            "    or has_schema_privilege('tally_app', 'plproxy', 'usage')").fetchone() == (False,)
        # every clicks and booking function a role may call on the proxy routes
        local = proxy.execute(
            "select p.oid::regprocedure::text from pg_proc p"
            "  join pg_namespace n on n.oid = p.pronamespace"
            "  join pg_language l on l.oid = p.prolang"
            " where n.nspname in ('clicks', 'booking')"
            "   and (has_function_privilege('tally_app', p.oid, 'execute')"
            "        or has_function_privilege('tally_jobs', p.oid, 'execute'))"
            "   and l.lanname <> 'plproxy' and p.prosrc !~ '\\m_\\w+_on(_all)?\\('").fetchall()
        assert local == []
    assert on_proxy == partitions[0].execute(ROLE_FUNCTIONS).fetchall()
    assert not [f for role, f in on_proxy if role == "public"]


async def test_a_key_reused_on_another_partition_is_refused(booking, clicks_stub, shards):
    """Each partition knows only its own keys; the proxy claims every key too, so a key
    reused with another request is refused as on one database, wherever each went."""
    events = {}
    while len(events) < shards:
        e = await booking.CreateEvent(bpb.CreateEventRequest(name="Reuse", total_seats=5))
        events.setdefault(e.id % shards, e.id)
    key = (("idempotency-key", f"moved-{uuid.uuid4().hex}"),)
    first = await booking.ReserveSeat(bpb.ReserveSeatRequest(event_id=events[0], user_id="r"),
                                      metadata=key)
    again = await booking.ReserveSeat(bpb.ReserveSeatRequest(event_id=events[0], user_id="r"),
                                      metadata=key)
    assert again == first
    for call in (booking.ReserveSeat(bpb.ReserveSeatRequest(event_id=events[1], user_id="r"),
                                     metadata=key),
                 booking.CancelBooking(bpb.CancelBookingRequest(booking_id=first.id),
                                       metadata=key),
                 clicks_stub.CreateBanner(cpb.CreateBannerRequest(name="Reuse"), metadata=key)):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert reason_of(caught.value) == "IDEMPOTENCY_KEY_REUSED"
    stats = await booking.GetUserBookingStats(bpb.GetUserBookingStatsRequest(user_id="r"))
    assert stats.bookings_count == 1


def test_migrate_keeps_the_partition_count_and_the_proxy_sharded(database_url, shards):
    """Migrate again as the same cluster: nothing moves. As another number of partitions,
    or as a single database: refused before anything changes (rows would be hidden)."""
    from server.ops import migrate

    def steps() -> list[int]:
        with psycopg.connect(shard_ops.partition_url(database_url, 0)) as conn:
            return [r[0] for r in conn.execute(
                "select seqincrement from pg_sequence where seqrelid = any(array["
                "pg_get_serial_sequence('clicks.banners', 'id'),"
                "pg_get_serial_sequence('booking.events', 'id')]::regclass[])")]

    assert steps() == [shards, shards]
    with pytest.raises(SystemExit, match="resharding"):
        shard_ops.migrate_sharded(database_url, shards + 1)
    with pytest.raises(SystemExit, match="SHARDS"):
        migrate.migrate(database_url)
    assert steps() == [shards, shards]
    shard_ops.migrate_sharded(database_url, shards)  # the same cluster: a no-op
    assert shard_ops.routed_partitions(database_url) == shards


async def test_the_key_purge_forgets_keys_on_the_proxy_and_every_partition(
        clicks_stub, database_url, shards):
    banners = {}
    while len(banners) < shards:
        b = await clicks_stub.CreateBanner(cpb.CreateBannerRequest(name="Purged"))
        banners.setdefault(b.id % shards, b.id)
    keys = [f"purge-{uuid.uuid4().hex}" for _ in banners]
    for key, banner in zip(keys, banners.values(), strict=True):
        await clicks_stub.RecordClick(cpb.RecordClickRequest(banner_id=banner),
                                      metadata=(("idempotency-key", key),))

    def held() -> int:
        total = 0
        for url in [database_url, *shard_ops.partition_urls(database_url, shards)]:
            with psycopg.connect(url) as conn:
                total += conn.execute("select count(*) from tally.idempotency_keys"
                                      " where key = any(%s)", (keys,)).fetchone()[0]
        return total

    assert held() == 2 * len(keys)  # each on its partition, and claimed on the proxy
    conn = await asyncpg.connect(with_user(database_url, JOBS_ROLE))
    try:
        purged = await conn.fetchval("select tally.purge_idempotency_keys($1)",
                                     datetime.now(UTC) + timedelta(days=2))
    finally:
        await conn.close()
    assert purged >= 2 * len(keys)
    assert held() == 0


# Last in this module: a partition taken down ends every connection to it, those of the
# session's server too, whose next call through each would answer UNAVAILABLE once (README,
# Sharded mode); no test of the shared server comes after these.


async def test_a_partition_down_fails_only_its_own_keys(database_url, shards):
    """On a server of its own: its proxy connections keep the partition's ended
    connections, which the next call through each answers UNAVAILABLE once (README)."""
    server = ServerProcess(database_url)
    await asyncio.to_thread(server.start)
    try:
        async with grpc.aio.insecure_channel(server.addr) as channel:
            await _partition_down_calls(bpb_grpc.BookingServiceStub(channel),
                                        cpb_grpc.ClickServiceStub(channel), database_url,
                                        shards)
    finally:
        await asyncio.to_thread(server.stop)


async def _partition_down_calls(booking, clicks_stub, database_url, shards):
    events = {}
    banners = {}
    while len(events) < shards or len(banners) < shards:
        e = await booking.CreateEvent(bpb.CreateEventRequest(name="Down", total_seats=10))
        events.setdefault(e.id % shards, e.id)
        b = await clicks_stub.CreateBanner(cpb.CreateBannerRequest(name="Down"))
        banners.setdefault(b.id % shards, b.id)
    up, down = 0, 1
    key = f"retry-{uuid.uuid4().hex}"
    with partition_down(database_url, down):
        # the partition that is up answers as always, also within a batch with the other
        await clicks_stub.RecordClick(cpb.RecordClickRequest(banner_id=banners[up]))
        ok = await booking.ReserveSeat(bpb.ReserveSeatRequest(event_id=events[up], user_id="u"))
        assert ok.event_id == events[up]
        assert (await booking.GetEvent(bpb.GetEventRequest(event_id=events[up]))).id
        # the one that is down: UNAVAILABLE, whatever the call
        for call in (
            booking.ReserveSeat(bpb.ReserveSeatRequest(event_id=events[down], user_id="u"),
                                metadata=(("idempotency-key", key),)),
            clicks_stub.RecordClick(cpb.RecordClickRequest(banner_id=banners[down])),
            booking.GetEvent(bpb.GetEventRequest(event_id=events[down] + 2 * shards)),
            clicks_stub.GetBanner(cpb.GetBannerRequest(banner_id=banners[down])),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await call
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE, caught.value.details()
        # reads that need every partition cannot be whole: UNAVAILABLE, not a partial page
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await booking.ListEvents(bpb.ListEventsRequest(page_size=10))
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    # back up: the retry with the same key books once. A proxy connection that held a
    # connection to the partition hears that connection's end first (UNAVAILABLE once),
    # and the client retries as RetryInfo says.
    first = await retry_unavailable(lambda: booking.ReserveSeat(
        bpb.ReserveSeatRequest(event_id=events[down], user_id="u"),
        metadata=(("idempotency-key", key),)))
    again = await booking.ReserveSeat(bpb.ReserveSeatRequest(event_id=events[down], user_id="u"),
                                      metadata=(("idempotency-key", key),))
    assert first.id == again.id
    with psycopg.connect(shard_ops.partition_url(database_url, down)) as conn:
        assert conn.execute("select count(*) from booking.bookings where event_id = %s",
                            (events[down],)).fetchone()[0] == 1


async def test_a_mixed_batch_with_a_partition_down_answers_each_caller_by_its_key(
        database_url, shards):
    """The proxy's batch functions as the server's batcher calls them: the items of the
    partition that is down get UNAVAILABLE rows, the others are done."""
    app = await asyncpg.connect(with_user(database_url, "tally_app"))
    try:
        ids = [r["id"] for r in [await app.fetchrow("select * from clicks.create_banner('m')")
                                 for _ in range(8)]]
        assert {i % shards for i in ids} == set(range(shards))
        now = datetime.now(UTC)
        with partition_down(database_url, 1):
            rows = await app.fetch("select * from clicks.record_clicks($1, $2, $3)",
                                   ids, [1] * len(ids), [now] * len(ids))
        assert [r["ord"] for r in rows] == list(range(1, len(ids) + 1))
        for i, r in zip(ids, rows, strict=True):
            if i % shards == 1:
                assert (r["error_sqlstate"], r["error_reason"]) == ("08006", "CLICKS_NOT_RECORDED")
            else:
                assert r["error_sqlstate"] is None and r["minute"] is not None
    finally:
        await app.close()
    counted = {}
    for url in shard_ops.partition_urls(database_url, shards):
        with psycopg.connect(url) as conn:
            counted.update(conn.execute(
                "select banner_id, sum(clicks) from clicks.minute_counts"
                " where banner_id = any(%s) group by 1", (ids,)).fetchall())
    assert counted == {i: 1 for i in ids if i % shards != 1}
