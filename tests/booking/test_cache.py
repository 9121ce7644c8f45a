"""Availability is cached in Redis and never stale after a committed change."""

from __future__ import annotations

import asyncio

import grpc
from tally.booking.v1 import booking_pb2 as pb
from tally.booking.v1 import booking_pb2_grpc as pb_grpc

from server.domains.booking import event_key
from tests.support import ServerProcess, cached, plant


async def test_get_event_is_served_from_the_cache(channel, redis_client):
    stub = pb_grpc.BookingServiceStub(channel)
    event = await stub.CreateEvent(pb.CreateEventRequest(name="Cached", total_seats=10))
    await stub.GetEvent(pb.GetEventRequest(event_id=event.id))
    key = event_key(event.id)
    assert cached(redis_client, key) == ["Cached", 10, 10]
    assert 0 < redis_client.pttl(key) <= 60_000
    # A value planted in Redis is what GetEvent answers: the read really hits the cache.
    plant(redis_client, key, ["Cached", 10, 7])
    assert (await stub.GetEvent(pb.GetEventRequest(event_id=event.id))).available_seats == 7


async def test_reservation_and_cancellation_invalidate_after_commit(channel, redis_client):
    stub = pb_grpc.BookingServiceStub(channel)
    event = await stub.CreateEvent(pb.CreateEventRequest(name="Fresh", total_seats=3))
    assert (await stub.GetEvent(pb.GetEventRequest(event_id=event.id))).available_seats == 3
    booking = await stub.ReserveSeat(pb.ReserveSeatRequest(event_id=event.id, user_id="c1"))
    assert redis_client.get(event_key(event.id)) is None
    assert (await stub.GetEvent(pb.GetEventRequest(event_id=event.id))).available_seats == 2
    await stub.CancelBooking(pb.CancelBookingRequest(booking_id=booking.id))
    assert (await stub.GetEvent(pb.GetEventRequest(event_id=event.id))).available_seats == 3


async def test_no_stale_figure_under_concurrent_reads_and_writes(channel, admin_db):
    """Readers racing writers must not leave an old figure in the cache: after every
    round, a read equals the database."""
    stub = pb_grpc.BookingServiceStub(channel)
    event = await stub.CreateEvent(pb.CreateEventRequest(name="Contended", total_seats=1000))
    get = pb.GetEventRequest(event_id=event.id)
    for round_ in range(40):
        await asyncio.gather(
            *(stub.GetEvent(get) for _ in range(6)),
            stub.ReserveSeat(pb.ReserveSeatRequest(event_id=event.id, user_id=f"r{round_}")),
            *(stub.GetEvent(get) for _ in range(6)),
        )
        truth = admin_db.execute("select total_seats - booked_seats from booking.events"
                                 " where id = %s", (event.id,)).fetchone()[0]
        assert (await stub.GetEvent(get)).available_seats == truth == 1000 - round_ - 1


async def test_redis_down_answers_from_postgres(database_url):
    """REDIS_URL points where nothing listens: every call still works, no errors."""
    proc = ServerProcess(database_url, REDIS_URL="redis://127.0.0.1:1/0",
                         RATE_LIMIT_MAX="5").start()
    try:
        async with grpc.aio.insecure_channel(proc.addr) as ch:
            stub = pb_grpc.BookingServiceStub(ch)
            event = await stub.CreateEvent(pb.CreateEventRequest(name="No Redis", total_seats=9))
            for i in range(3):
                await stub.ReserveSeat(pb.ReserveSeatRequest(event_id=event.id, user_id=f"n{i}"))
                got = await stub.GetEvent(pb.GetEventRequest(event_id=event.id))
                assert got.available_seats == 8 - i
            # The rate limit (5) cannot be counted without Redis: calls are let through.
            for _ in range(10):
                await stub.GetEvent(pb.GetEventRequest(event_id=event.id))
    finally:
        assert proc.stop() == 0
    assert "redis" in proc.log().lower()
