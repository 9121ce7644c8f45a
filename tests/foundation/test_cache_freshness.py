"""The cache follows every commit, whoever commits, on every worker, through faults.

Each test warms the cache through several channels (SO_REUSEPORT spreads connections
over the workers), checks the value really sits in Redis, changes the row, and then reads
it at once through every channel: no read may return the old value.

  * a psql user (the real psql, as tally_app) writes; two workers;
  * Redis stalls (SIGSTOP) while gRPC and psql writes commit; two workers;
  * Redis stalls, a psql write's invalidation fails, the server is killed with SIGKILL,
    Redis comes back still holding the old value, a new server starts;
  * the cache listener's PostgreSQL connection is terminated, then a psql write.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from tally.booking.v1 import booking_pb2 as pb
from tally.booking.v1 import booking_pb2_grpc as pb_grpc
from tally.shop.v1 import shop_pb2 as shop_pb

from server.core.config import APP_ROLE, with_user
from server.domains.booking import event_key
from server.domains.shop import product_key
from tests.shop.helpers import Stubs, new_category, new_product
from tests.support import ServerProcess, cached, free_port

pytestmark = pytest.mark.slow
CHANNELS = 8


class OwnRedis:
    """A redis-server of the test's own, so it can be stalled (SIGSTOP) and resumed."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(directory)], stdout=subprocess.DEVNULL)
        import redis

        self.client = redis.Redis(port=self.port, decode_responses=True)
        for _ in range(100):
            try:
                self.client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)

    def stall(self) -> None:
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        self.resume()
        self.proc.terminate()
        self.proc.wait()
        self.client.close()


@pytest.fixture
def own_redis(tmp_path) -> Iterator[OwnRedis]:
    r = OwnRedis(tmp_path)
    yield r
    r.stop()


def psql(database_url: str, sql: str) -> str:
    """Run `sql` with the real psql, as tally_app, as a user would."""
    done = subprocess.run(["psql", with_user(database_url, APP_ROLE), "-v", "ON_ERROR_STOP=1",
                           "-qAtc", sql], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "PGAPPNAME": "psql"})
    assert done.returncode == 0, done.stderr
    return done.stdout


async def available(channels: list[grpc.aio.Channel], event_id: int) -> set[int]:
    """available_seats as each channel reads it, all at once."""
    replies = await asyncio.gather(*(
        pb_grpc.BookingServiceStub(c).GetEvent(pb.GetEventRequest(event_id=event_id))
        for c in channels))
    return {r.available_seats for r in replies}


async def warm(channels, event_id: int, redis_client, expected: int) -> None:
    for _ in range(3):
        assert await available(channels, event_id) == {expected}
    assert cached(redis_client, event_key(event_id)) is not None, "the event is cached"


def open_channels(server: ServerProcess) -> list[grpc.aio.Channel]:
    # A channel option that differs per channel keeps gRPC from sharing one connection.
    return [grpc.aio.insecure_channel(server.addr, options=[("tally.test.channel", i)])
            for i in range(CHANNELS)]


async def test_a_psql_write_is_read_at_once_on_every_worker(database_url, redis_client):
    server = ServerProcess(database_url, workers=2, JOBS="false").start()
    channels = open_channels(server)
    try:
        stub = pb_grpc.BookingServiceStub(channels[0])
        event = await stub.CreateEvent(pb.CreateEventRequest(name="psql", total_seats=100))
        s = Stubs(channels[0])
        product = await new_product(s, (await new_category(s)).id, price="2.50")
        for round_ in range(10):
            await warm(channels, event.id, redis_client, 100 - round_)
            psql(database_url, f"select booking.reserve_seat({event.id}, 'psql-{round_}')")
            assert await available(channels, event.id) == {99 - round_}, round_

            get = shop_pb.GetProductRequest(product_id=product.id)
            for c in channels:
                await Stubs(c).products.GetProduct(get)
            assert cached(redis_client, product_key(product.id)) is not None
            price = f"{3 + round_}.00"
            psql(database_url, f"select shop.update_product({product.id}, p_price => '{price}')")
            prices = await asyncio.gather(*(Stubs(c).products.GetProduct(get) for c in channels))
            assert {p.price for p in prices} == {price}, round_
    finally:
        for c in channels:
            await c.close()
        server.stop()


async def test_a_redis_stall_during_writes_leaves_no_worker_stale(database_url, own_redis):
    server = ServerProcess(database_url, workers=2, JOBS="false", REDIS_URL=own_redis.url,
                           REDIS_TIMEOUT="0.1").start()
    channels = open_channels(server)
    try:
        stub = pb_grpc.BookingServiceStub(channels[0])
        event = await stub.CreateEvent(pb.CreateEventRequest(name="stall", total_seats=10))
        await warm(channels, event.id, own_redis.client, 10)
        own_redis.stall()
        try:
            await stub.ReserveSeat(pb.ReserveSeatRequest(event_id=event.id, user_id="g1"))
            psql(database_url, f"select booking.reserve_seat({event.id}, 'p1')")
            assert await available(channels, event.id) == {8}, "answered from PostgreSQL"
            await asyncio.sleep(0.5)  # every worker's invalidations time out meanwhile
        finally:
            own_redis.resume()
        for _ in range(20):  # through each worker's backoff and back to Redis
            assert await available(channels, event.id) == {8}
            await asyncio.sleep(0.1)
        await warm(channels, event.id, own_redis.client, 8)  # and caching again
    finally:
        for c in channels:
            await c.close()
        server.stop()


async def test_sigkill_after_a_failed_invalidation_leaves_nothing_stale(database_url,
                                                                        own_redis):
    env = {"JOBS": "false", "REDIS_URL": own_redis.url, "REDIS_TIMEOUT": "0.1"}
    server = ServerProcess(database_url, **env).start()
    channels = open_channels(server)
    try:
        stub = pb_grpc.BookingServiceStub(channels[0])
        event = await stub.CreateEvent(pb.CreateEventRequest(name="killed", total_seats=10))
        await warm(channels, event.id, own_redis.client, 10)
        own_redis.stall()
        psql(database_url, f"select booking.reserve_seat({event.id}, 'k1')")
        await asyncio.sleep(0.5)  # the server heard it; its invalidation timed out
        server.stop(signal.SIGKILL)
        own_redis.resume()
        assert cached(own_redis.client, event_key(event.id)) == ["killed", 10, 10], \
            "Redis still holds the old figure"
    finally:
        for c in channels:
            await c.close()
    server = ServerProcess(database_url, **env).start()
    channels = open_channels(server)
    try:
        assert await available(channels, event.id) == {9}
    finally:
        for c in channels:
            await c.close()
        server.stop()


async def test_a_terminated_listener_connection_leaves_nothing_stale(database_url,
                                                                     redis_client, admin_db):
    server = ServerProcess(database_url, JOBS="false").start()
    channels = open_channels(server)
    try:
        stub = pb_grpc.BookingServiceStub(channels[0])
        event = await stub.CreateEvent(pb.CreateEventRequest(name="unheard", total_seats=10))
        for round_ in range(3):
            await warm(channels, event.id, redis_client, 10 - round_)
            # Every listener on this database: this server's, and any other test server's
            # (which reconnects as this one must).
            killed = admin_db.execute(
                "select count(pg_terminate_backend(pid)) from pg_stat_activity"
                " where application_name = 'tally-cache-listener'"
                "   and datname = current_database()").fetchone()[0]
            assert killed >= 1
            psql(database_url, f"select booking.reserve_seat({event.id}, 'l{round_}')")
            assert await available(channels, event.id) == {9 - round_}
    finally:
        for c in channels:
            await c.close()
        server.stop()
