"""Never overbooked, never twice for one user: real concurrent callers, exact counts."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import asyncpg
import grpc
from tally.booking.v1 import booking_pb2 as pb
from tally.booking.v1 import booking_pb2_grpc as pb_grpc

from server.core.config import APP_ROLE, with_user
from tests.support import reason_of


async def test_500_concurrent_reservations_for_100_seats(server, admin_db):
    # Several channels, so calls arrive over several connections at once.
    channels = [grpc.aio.insecure_channel(server.addr) for _ in range(8)]
    try:
        stubs = [pb_grpc.BookingServiceStub(ch) for ch in channels]
        event = await stubs[0].CreateEvent(pb.CreateEventRequest(name="Race", total_seats=100))
        users = [f"racer-{i}" for i in range(450)] + [f"racer-{i}" for i in range(0, 100, 2)]
        random.Random(7).shuffle(users)
        assert len(users) == 500

        async def reserve(i: int, who: str):
            try:
                return await stubs[i % len(stubs)].ReserveSeat(
                    pb.ReserveSeatRequest(event_id=event.id, user_id=who))
            except grpc.aio.AioRpcError as err:
                return err

        results = await asyncio.gather(*(reserve(i, u) for i, u in enumerate(users)))
    finally:
        for ch in channels:
            await ch.close()

    booked = [r for r in results if isinstance(r, pb.Booking)]
    failed = [r for r in results if not isinstance(r, pb.Booking)]
    assert len(booked) == 100
    assert len({b.user_id for b in booked}) == 100, "a user got two seats"
    reasons = Counter((e.code(), reason_of(e)) for e in failed)
    assert set(reasons) <= {(grpc.StatusCode.FAILED_PRECONDITION, "SOLD_OUT"),
                            (grpc.StatusCode.ALREADY_EXISTS, "ALREADY_BOOKED")}, reasons
    assert sum(reasons.values()) == 400
    rows = admin_db.execute(
        "select count(*), count(distinct user_id) from booking.bookings where event_id = %s",
        (event.id,)).fetchone()
    assert rows == (100, 100)
    seats = admin_db.execute("select total_seats, booked_seats from booking.events where id = %s",
                             (event.id,)).fetchone()
    assert seats == (100, 100)
    # Every repeated user who got a seat got exactly one; a repeat never booked twice.
    assert all(n == 1 for n in Counter(b.user_id for b in booked).values())


async def test_psql_users_get_the_same_guarantee(database_url, admin_db, shards):
    """The rule is in SQL: 40 sessions of tally_app calling reserve_seat directly (20 in
    the sharded mode, twice as often: each proxy session holds a connection to the
    partition too, and the test server's max_connections is shared)."""
    event_id = admin_db.execute(
        "select id from booking.create_event('Direct race', 25)").fetchone()[0]
    url = with_user(database_url, APP_ROLE)
    sessions = 20 if shards else 40
    conns = [await asyncpg.connect(url) for _ in range(sessions)]
    try:
        async def reserve(conn: asyncpg.Connection, who: str) -> str:
            try:
                await conn.fetchrow("select * from booking.reserve_seat($1, $2)", event_id, who)
                return "ok"
            except asyncpg.PostgresError as exc:
                return exc.sqlstate

        outcomes = []
        for round_ in range(120 // sessions):  # 120 attempts, 25 seats, 10 users try twice
            outcomes += await asyncio.gather(*(
                reserve(c, f"direct-{(round_ * sessions + i) % 110}")
                for i, c in enumerate(conns)))
    finally:
        for c in conns:
            await c.close()
    counts = Counter(outcomes)
    assert counts["ok"] == 25
    assert set(counts) <= {"ok", "TLFP1", "TLAE1"}
    assert admin_db.execute("select count(*) from booking.bookings where event_id = %s",
                            (event_id,)).fetchone()[0] == 25
