"""The server process: health, reflection, metrics, graceful shutdown, several workers."""

from __future__ import annotations

import asyncio
import signal
import time

import grpc
import psycopg
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from tally.booking.v1 import booking_pb2 as pb
from tally.booking.v1 import booking_pb2_grpc as pb_grpc

from tests.support import (
    TEST_DATABASE_URL,
    ServerProcess,
    metrics_text,
    recreate_database,
    scratch_database_url,
)

BOOKING = "tally.booking.v1.BookingService"
# What a call that reaches a server shutting down gets (gRPC core's choice).
REFUSED = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED}


async def health_status(addr: str, service: str = "") -> int:
    async with grpc.aio.insecure_channel(addr) as ch:
        reply = await health_pb2_grpc.HealthStub(ch).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=2)
        return reply.status


async def test_health_serving_for_every_service(server):
    for service in ("", BOOKING):
        assert await health_status(server.addr, service) == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_services_and_resolves_symbols(server):
    async with grpc.aio.insecure_channel(server.addr) as ch:
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)

        async def ask(**kwargs):
            request = reflection_pb2.ServerReflectionRequest(**kwargs)
            call = stub.ServerReflectionInfo(iter([request]))
            async for reply in call:
                return reply

        listed = await ask(list_services="")
        names = {s.name for s in listed.list_services_response.service}
        assert {BOOKING, "grpc.health.v1.Health",
                "grpc.reflection.v1alpha.ServerReflection"} <= names
        found = await ask(file_containing_symbol=BOOKING)
        assert found.file_descriptor_response.file_descriptor_proto


async def test_metrics_count_rpcs_by_method_and_code(server, channel):
    stub = pb_grpc.BookingServiceStub(channel)
    await stub.CreateEvent(pb.CreateEventRequest(name="Metered", total_seats=1))
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.GetEvent(pb.GetEventRequest(event_id=2**62))
    body = metrics_text(server.metrics_addr)
    assert 'tally_rpcs_total{code="OK",method="BookingService.CreateEvent"}' in body
    assert 'tally_rpcs_total{code="NOT_FOUND",method="BookingService.GetEvent"}' in body
    assert 'tally_rpc_duration_seconds_bucket{le="0.005",method="BookingService.CreateEvent"}' \
        in body
    assert 'tally_db_pool_connections{state="max"}' in body


@pytest.fixture
def own_database() -> str:
    """A database of its own, for tests that take it away from the server."""
    url = scratch_database_url("server")
    recreate_database(url)
    return url


def allow_connections(url: str, allow: bool) -> None:
    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("alter database {} allow_connections {}").format(
            sql.Identifier(name), sql.Literal(allow)))
        if not allow:
            admin.execute("select pg_terminate_backend(pid) from pg_stat_activity"
                          " where datname = %s and pid <> pg_backend_pid()", (name,))


async def test_health_follows_the_database(own_database):
    proc = ServerProcess(own_database).start()
    try:
        allow_connections(own_database, False)
        deadline = time.monotonic() + 15
        while await health_status(proc.addr, BOOKING) != health_pb2.HealthCheckResponse.NOT_SERVING:
            assert time.monotonic() < deadline, "health never went NOT_SERVING"
            await asyncio.sleep(0.2)
        allow_connections(own_database, True)
        deadline = time.monotonic() + 15
        while await health_status(proc.addr, BOOKING) != health_pb2.HealthCheckResponse.SERVING:
            assert time.monotonic() < deadline, "health never came back to SERVING"
            await asyncio.sleep(0.2)
    finally:
        allow_connections(own_database, True)
        assert proc.stop() == 0


async def test_graceful_shutdown_finishes_in_flight_calls(own_database):
    """SIGTERM: health goes NOT_SERVING, new calls are refused, the call in flight (held
    up by a row lock) still completes, and the process exits 0."""
    proc = ServerProcess(own_database, GRACE_SECONDS="20", LOG_LEVEL="INFO").start()
    async with grpc.aio.insecure_channel(proc.addr) as ch:
        stub = pb_grpc.BookingServiceStub(ch)
        event = await stub.CreateEvent(pb.CreateEventRequest(name="Last call", total_seats=5))
        with psycopg.connect(own_database) as blocker:
            blocker.execute("select 1 from booking.events where id = %s for update", (event.id,))
            in_flight = asyncio.ensure_future(
                stub.ReserveSeat(pb.ReserveSeatRequest(event_id=event.id, user_id="late")))
            await asyncio.sleep(0.5)
            assert not in_flight.done()
            proc.send(signal.SIGTERM)
            deadline = time.monotonic() + 10
            while True:  # health says NOT_SERVING, then the port stops taking calls
                try:
                    status = await health_status(proc.addr)
                except grpc.aio.AioRpcError as exc:
                    assert exc.code() in REFUSED
                    break
                if status == health_pb2.HealthCheckResponse.NOT_SERVING:
                    break
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            async with grpc.aio.insecure_channel(proc.addr) as fresh:
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await pb_grpc.BookingServiceStub(fresh).GetEvent(
                        pb.GetEventRequest(event_id=event.id), timeout=2)
                assert refused.value.code() in REFUSED
            assert not in_flight.done()
            blocker.rollback()  # let the reservation through
        booking = await asyncio.wait_for(in_flight, 10)
        assert booking.user_id == "late"
    assert proc.proc.wait(20) == 0
    with psycopg.connect(own_database) as conn:
        assert conn.execute("select count(*) from booking.bookings where user_id = 'late'"
                            ).fetchone()[0] == 1
    assert '"msg": "stopped"' in proc.log()


async def test_several_workers_share_the_port(own_database):
    proc = ServerProcess(own_database, workers=2).start()
    try:
        pids = set()
        for _ in range(40):  # new connections are spread over the workers by the kernel
            async with grpc.aio.insecure_channel(
                    proc.addr, options=[("grpc.use_local_subchannel_pool", 1)]) as ch:
                await pb_grpc.BookingServiceStub(ch).CreateEvent(
                    pb.CreateEventRequest(name="w", total_seats=1))
        with psycopg.connect(own_database) as conn:
            pids = {r[0] for r in conn.execute(
                "select pid from pg_stat_activity where datname = current_database()"
                " and application_name = 'tally-server'")}
        assert len(pids) >= 2 * 4 - 1  # two pools of DB_POOL_SIZE (4) connections
        body = metrics_text(proc.metrics_addr)
        assert 'tally_rpcs_total{code="OK",method="BookingService.CreateEvent"} 40.0' in body
    finally:
        assert proc.stop() == 0
