"""RecordClick's group commit under load and failure: exact counts, UNAVAILABLE for a
failed batch, nothing acknowledged is lost on kill -9, graceful shutdown drains."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter

import grpc
import psycopg
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from tally.clicks.v1 import clicks_pb2 as pb
from tally.clicks.v1 import clicks_pb2_grpc as pb_grpc

from tests.support import ServerProcess, reason_of

TOTAL_SQL = "select coalesce(sum(clicks), 0) from clicks.minute_counts where banner_id = %s"


@pytest.fixture(scope="module")
def stub(channel: grpc.aio.Channel) -> pb_grpc.ClickServiceStub:
    return pb_grpc.ClickServiceStub(channel)


def new_banner(admin_db: psycopg.Connection, name: str) -> int:
    return admin_db.execute("select id from clicks.create_banner(%s)", (name,)).fetchone()[0]


def total(admin_db: psycopg.Connection, banner_id: int) -> int:
    return admin_db.execute(TOTAL_SQL, (banner_id,)).fetchone()[0]


async def test_exact_counts_from_200_concurrent_callers(stub, admin_db):
    banners = [new_banner(admin_db, f"Exact {i}") for i in range(50)]
    sent: Counter[int] = Counter()

    async def caller(n: int) -> None:
        for j in range(100):
            banner = banners[(n * 7 + j) % 50]
            await stub.RecordClick(pb.RecordClickRequest(banner_id=banner))
            sent[banner] += 1

    await asyncio.gather(*(caller(n) for n in range(200)))
    assert sum(sent.values()) == 20_000
    now = int(time.time())
    got = await asyncio.gather(*(stub.GetStats(pb.GetStatsRequest(
        banner_id=b, ts_from=Timestamp(seconds=now - 3600), ts_to=Timestamp(seconds=now + 120)))
        for b in banners))
    assert {b: g.total for b, g in zip(banners, got, strict=True)} == dict(sent)


async def test_failed_batch_answers_unavailable_and_counts_nothing(stub, admin_db, database_url):
    banner = new_banner(admin_db, "Fails")
    with psycopg.connect(database_url) as locker:
        # Hold the table so the batches wait on it, then cut their connections: the
        # statement fails, so every caller of those batches must hear UNAVAILABLE.
        locker.execute("lock table clicks.minute_counts in access exclusive mode")
        calls = [asyncio.ensure_future(stub.RecordClick(pb.RecordClickRequest(banner_id=banner)))
                 for _ in range(30)]
        while not all(c.done() for c in calls):
            admin_db.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity"
                " where application_name = 'tally-server' and wait_event_type = 'Lock'"
                "   and query like '%clicks.record_clicks%'"
                "   and datname = current_database()")
            await asyncio.wait(calls, timeout=0.05)
        locker.rollback()
    for call in calls:
        err = call.exception()
        assert isinstance(err, grpc.aio.AioRpcError)
        assert err.code() == grpc.StatusCode.UNAVAILABLE, err.details()
        assert reason_of(err) == "CLICKS_NOT_RECORDED"
    assert total(admin_db, banner) == 0
    # The pool replaced its connections: the next click goes through.
    await stub.RecordClick(pb.RecordClickRequest(banner_id=banner))
    assert total(admin_db, banner) == 1


async def _run_and_signal(database_url: str, admin_db, sig: int, callers: int = 50
                          ) -> tuple[int, int, int]:
    """Clicks from `callers` concurrent loops on a server of its own; once 1000 were
    acknowledged, send `sig` and let every loop run until its call fails."""
    banner = new_banner(admin_db, f"Signal {sig}")
    server = ServerProcess(database_url)
    await asyncio.to_thread(server.start)
    counts = {"sent": 0, "acked": 0}
    reached = asyncio.Event()
    try:
        async with grpc.aio.insecure_channel(server.addr) as channel:
            stub = pb_grpc.ClickServiceStub(channel)

            async def caller() -> None:
                while True:
                    counts["sent"] += 1
                    try:
                        await stub.RecordClick(pb.RecordClickRequest(banner_id=banner),
                                               timeout=10)
                    except grpc.aio.AioRpcError:
                        return
                    counts["acked"] += 1
                    if counts["acked"] >= 1000:
                        reached.set()

            tasks = [asyncio.ensure_future(caller()) for _ in range(callers)]
            await asyncio.wait_for(reached.wait(), 60)
            server.send(sig)
            await asyncio.wait_for(asyncio.gather(*tasks), 60)
    finally:
        await asyncio.to_thread(server.stop, signal.SIGKILL)
    return counts["sent"], counts["acked"], total(admin_db, banner)


async def test_sigkill_loses_no_acknowledged_click(database_url, admin_db):
    sent, acked, counted = await _run_and_signal(database_url, admin_db, signal.SIGKILL)
    assert acked >= 1000
    assert sent > acked  # calls were in flight when the server died
    assert acked <= counted <= sent


async def test_graceful_shutdown_answers_and_counts_everything_in_flight(database_url, admin_db):
    sent, acked, counted = await _run_and_signal(database_url, admin_db, signal.SIGTERM)
    assert sent >= acked
    assert acked >= 1000
    assert counted == acked  # each call in flight was flushed and answered; no extra
