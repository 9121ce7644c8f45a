"""ReportService end to end: GetReports, report idempotency, WatchReports replay, live
delivery and resumption across a server restart."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import asyncpg
import grpc
from tally.shop.v1 import shop_pb2 as pb
from tally.shop.v1 import shop_pb2_grpc as pb_grpc

from server.core.config import JOBS_ROLE, with_user
from server.domains.shop import JOBS
from tests.shop.helpers import item, new_category, new_product, new_user
from tests.support import ServerProcess, expect_error

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def generate(admin_db, day: date) -> tuple[int, int, bool]:
    """What the daily job does, through the same function."""
    row = admin_db.execute("select outbox_id, reports_count, created"
                           "  from shop.generate_daily_reports(%s)", (day,)).fetchone()
    return row[0], row[1], row[2]


def max_outbox_id(admin_db) -> int:
    return admin_db.execute("select coalesce(max(id), 0) from shop.report_outbox").fetchone()[0]


async def test_daily_reports_are_idempotent(s, admin_db):
    user, address = await new_user(s)
    product = await new_product(s, (await new_category(s)).id, stock=100)
    orders = [await s.orders.CreateOrder(pb.CreateOrderRequest(
        user_id=user.id, delivery_address_id=address.id, items=[item(product.id, n)]))
        for n in (2, 5)]
    # A day is reported once it has ended, and the job's catch-up covers the last 31 days:
    # date these orders on a day of their own, long ended.
    day = date(1995, 6, 15)
    admin_db.execute("update shop.orders set created_at = %s::date + (created_at - now())"
                     "   + interval '12 hours' where id = any(%s)",
                     (day, [o.id for o in orders]))
    outbox_id, count, created = generate(admin_db, day)
    assert created and count >= 2
    reports = (await s.reports.GetReports(
        pb.GetReportsRequest(report_date=day.isoformat()))).reports
    mine = {r.order_id: r.count_product for r in reports if r.order_id in {o.id for o in orders}}
    assert mine == {orders[0].id: 2, orders[1].id: 5}
    assert all(r.report_at == day.isoformat() for r in reports)
    assert generate(admin_db, day) == (outbox_id, count, False), "a second run adds nothing"
    again = (await s.reports.GetReports(pb.GetReportsRequest(report_date=day.isoformat())))
    assert list(again.reports) == list(reports)
    assert admin_db.execute("select count(*) from shop.report_outbox where report_date = %s",
                            (day,)).fetchone()[0] == 1


async def test_get_reports_errors_and_empty_day(s):
    empty = await s.reports.GetReports(pb.GetReportsRequest(report_date="1970-01-02"))
    assert list(empty.reports) == []
    await expect_error(s.reports.GetReports(pb.GetReportsRequest(report_date="02.01.1970")),
                       INVALID, "DATE_INVALID")


async def test_watch_reports_rejects_negative_after_id(s):
    stream = s.reports.WatchReports(pb.WatchReportsRequest(after_id=-1))
    await expect_error(stream.read(), INVALID, "AFTER_ID_INVALID")


async def read(stream, days: set[str]) -> pb.ReportSummary:
    """The next summary of one of `days` (other tests' or jobs' summaries are skipped)."""
    while True:
        summary = await asyncio.wait_for(stream.read(), 20)
        assert summary is not grpc.aio.EOF
        if summary.report_date in days:
            return summary


async def test_watch_reports_across_a_restart(database_url, admin_db):
    days = [date(1990, 1, d) for d in range(1, 5)]
    names = {d.isoformat() for d in days}
    start = max_outbox_id(admin_db)
    generate(admin_db, days[0])
    server = ServerProcess(database_url, JOBS="false", GRACE_SECONDS="1").start()
    seen: list[pb.ReportSummary] = []
    try:
        async with grpc.aio.insecure_channel(server.addr) as channel:
            stream = pb_grpc.ReportServiceStub(channel).WatchReports(
                pb.WatchReportsRequest(after_id=start))
            seen.append(await read(stream, names))             # replayed
            generate(admin_db, days[1])
            seen.append(await read(stream, names))             # delivered live (NOTIFY)
            server.stop()
            try:
                while (await asyncio.wait_for(stream.read(), 20)) is not grpc.aio.EOF:
                    raise AssertionError("nothing new was generated")
            except grpc.aio.AioRpcError as exc:
                assert exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
        generate(admin_db, days[2])                            # while no server runs
        server.start()
        async with grpc.aio.insecure_channel(server.addr) as channel:
            stream = pb_grpc.ReportServiceStub(channel).WatchReports(
                pb.WatchReportsRequest(after_id=seen[-1].id))  # resume
            seen.append(await read(stream, names))
            generate(admin_db, days[3])
            seen.append(await read(stream, names))
            stream.cancel()
    finally:
        server.stop()
    assert [x.report_date for x in seen] == [d.isoformat() for d in days]
    ids = [x.id for x in seen]
    assert ids == sorted(set(ids)), "each summary once, in order"
    assert all(x.reports_count == 0 and list(x.reports) == [] for x in seen)


def watch_connections(admin_db) -> int:
    return admin_db.execute(
        "select count(*) from pg_stat_activity where datname = current_database()"
        " and application_name = 'tally-server-watch-reports'").fetchone()[0]


async def until(check, expected, seconds: float = 10.0):
    deadline = asyncio.get_running_loop().time() + seconds
    while (value := check()) != expected:
        assert asyncio.get_running_loop().time() < deadline, f"{value} != {expected}"
        await asyncio.sleep(0.05)


async def test_watch_streams_share_one_listen_connection(s, admin_db):
    days = [date(1992, 5, d) for d in (1, 2)]
    names = {d.isoformat() for d in days}
    await until(lambda: watch_connections(admin_db), 0)
    start = max_outbox_id(admin_db)
    streams = [s.reports.WatchReports(pb.WatchReportsRequest(after_id=start))
               for _ in range(3)]
    try:
        generate(admin_db, days[0])
        first = [await read(stream, names) for stream in streams]
        assert {x.report_date for x in first} == {days[0].isoformat()}
        assert watch_connections(admin_db) == 1, "one LISTEN connection for all streams"
        streams.pop().cancel()
        generate(admin_db, days[1])  # the other two still hear of it
        second = [await read(stream, names) for stream in streams]
        assert {x.report_date for x in second} == {days[1].isoformat()}
    finally:
        for stream in streams:
            stream.cancel()
    await until(lambda: watch_connections(admin_db), 0)  # closed with its last stream


async def test_daily_job_reports_the_day_that_ended(database_url, admin_db):
    """The job's SQL, as the runner calls it: $1 = the scheduled time (00:00 UTC)."""
    job = next(job for job in JOBS if job.name == "shop.daily_reports")
    assert job.daily_at is not None and job.daily_at.hour == 0 and job.catch_up
    conn = await asyncpg.connect(with_user(database_url, JOBS_ROLE))
    try:
        scheduled = datetime(1991, 3, 2, 0, 0, tzinfo=UTC)
        first = await conn.fetchrow(job.sql, scheduled)
        again = await conn.fetchrow(job.sql, scheduled)
    finally:
        await conn.close()
    assert (first["report_date"], first["created"]) == (date(1991, 3, 1), True)
    assert (again["outbox_id"], again["created"]) == (first["outbox_id"], False)
