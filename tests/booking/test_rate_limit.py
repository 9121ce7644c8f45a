"""Rate limit per client identity, counted in Redis across workers."""

from __future__ import annotations

import grpc
import pytest
from tally.booking.v1 import booking_pb2 as pb
from tally.booking.v1 import booking_pb2_grpc as pb_grpc

from tests.support import ServerProcess, reason_of, status_details


@pytest.fixture(scope="module")
def limited(database_url, redis_client):
    proc = ServerProcess(database_url, workers=2, RATE_LIMIT_MAX="5",
                         RATE_LIMIT_TIME_WINDOW="60000").start()
    yield proc
    assert proc.stop() == 0


async def calls(addr: str, n: int, client_id: str | None) -> list[grpc.StatusCode]:
    """n calls, each on a new connection (so they spread over both workers)."""
    codes = []
    metadata = (("x-client-id", client_id),) if client_id else None
    for _ in range(n):
        async with grpc.aio.insecure_channel(
                addr, options=[("grpc.use_local_subchannel_pool", 1)]) as ch:
            try:
                await pb_grpc.BookingServiceStub(ch).ListEvents(
                    pb.ListEventsRequest(page_size=1), metadata=metadata)
                codes.append(grpc.StatusCode.OK)
            except grpc.aio.AioRpcError as err:
                codes.append(err.code())
                last = err
    if codes[-1] != grpc.StatusCode.OK:
        assert reason_of(last) == "RATE_LIMITED"
        retry = status_details(last)["RetryInfo"].retry_delay
        assert 0 < retry.seconds + retry.nanos / 1e9 <= 60
    return codes


async def test_limit_holds_across_workers(limited):
    codes = await calls(limited.addr, 9, "client-a")
    assert codes == [grpc.StatusCode.OK] * 5 + [grpc.StatusCode.RESOURCE_EXHAUSTED] * 4


async def test_clients_are_counted_separately(limited):
    assert (await calls(limited.addr, 5, "client-b")).count(grpc.StatusCode.OK) == 5
    assert (await calls(limited.addr, 1, "client-c")) == [grpc.StatusCode.OK]


async def test_without_client_id_the_peer_address_is_the_identity(limited, redis_client):
    codes = await calls(limited.addr, 7, None)
    assert codes == [grpc.StatusCode.OK] * 5 + [grpc.StatusCode.RESOURCE_EXHAUSTED] * 2
    assert any(k.startswith("tally:ratelimit:peer:ipv4:127.0.0.1:")
               for k in redis_client.keys("tally:ratelimit:*"))


async def test_health_is_not_rate_limited(limited):
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    async with grpc.aio.insecure_channel(limited.addr) as ch:
        for _ in range(12):
            reply = await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest())
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
