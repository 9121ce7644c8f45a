"""Bytes that do not decode as a method's request get INVALID_ARGUMENT MALFORMED_REQUEST on
every tally RPC, with no traceback in the server log; abandoned calls are counted.

The RPCs come from the generated descriptors, so a new method is covered without a change
here. Each is sent, as raw bytes, the single byte 0x08 (a varint tag with no value),
a string field's tag followed by invalid UTF-8, and a length that runs past the end."""

from __future__ import annotations

import asyncio
import re

import grpc
import psycopg
import pytest
from tally.booking.v1 import booking_pb2, booking_pb2_grpc
from tally.clicks.v1 import clicks_pb2
from tally.segments.v1 import segments_pb2
from tally.shop.v1 import shop_pb2

from server.core import errors
from tests.support import metrics_text, reason_of

FILES = (booking_pb2.DESCRIPTOR, clicks_pb2.DESCRIPTOR, segments_pb2.DESCRIPTOR,
         shop_pb2.DESCRIPTOR)
METHODS = [method for file in FILES for service in file.services_by_name.values()
           for method in service.methods]


def path(method) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def invalid_utf8(method) -> bytes | None:
    """The first string field of the request, holding the bytes ff fe (not UTF-8)."""
    for field in method.input_type.fields:
        if field.type == field.TYPE_STRING:
            return bytes([field.number << 3 | 2, 2, 0xFF, 0xFE])
    return None


BODIES = {
    "varint-tag-without-value": lambda method: b"\x08",
    "length-past-the-end": lambda method: b"\x0a\x7f\x01",
    "invalid-utf8-in-a-string": invalid_utf8,
}


def test_every_rpc_is_covered():
    assert len(METHODS) >= 40
    assert sum(invalid_utf8(m) is not None for m in METHODS) >= 15


@pytest.mark.parametrize("make_body", BODIES.values(), ids=BODIES.keys())
async def test_undecodable_bytes_are_invalid_argument_on_every_rpc(server, channel, make_body):
    before = len(server.log())
    answered = 0
    for method in METHODS:
        body = make_body(method)
        if body is None:
            continue
        if method.server_streaming:
            stream = channel.unary_stream(path(method))(body, timeout=10)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                async for _ in stream:
                    pass
        else:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await channel.unary_unary(path(method))(body, timeout=10)
        err = caught.value
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, (path(method), err.details())
        assert reason_of(err) == "MALFORMED_REQUEST", path(method)
        answered += 1
    assert answered >= 15
    log = server.log()[before:]
    assert "Traceback" not in log and '"level": "ERROR"' not in log, log[-2000:]


def test_a_broken_connection_is_unavailable_with_a_retry_hint():
    import asyncpg
    from google.rpc import error_details_pb2

    err = errors.to_rpc_error(asyncpg.exceptions.InternalClientError("protocol is broken"))
    assert err.code == grpc.StatusCode.UNAVAILABLE
    assert err.reason == "DATABASE_UNAVAILABLE"
    assert any(isinstance(d, error_details_pb2.RetryInfo) for d in err.details)


def counted(server, method: str, code: str) -> float:
    pattern = re.compile(
        rf'^tally_rpcs_total{{(?=[^}}]*method="{re.escape(method)}")'
        rf'(?=[^}}]*code="{code}")[^}}]*}} ([0-9.e+]+)$', re.M)
    return sum(float(m) for m in pattern.findall(metrics_text(server.metrics_addr)))


async def test_deadline_exceeded_and_cancelled_calls_are_counted(server, channel,
                                                                 database_url):
    """A call whose deadline passes while PostgreSQL holds it is counted DEADLINE_EXCEEDED;
    one the client cancels, CANCELLED."""
    stub = booking_pb2_grpc.BookingServiceStub(channel)
    event = await stub.CreateEvent(booking_pb2.CreateEventRequest(name="held", total_seats=5))
    method = "BookingService.ReserveSeat"
    deadline0 = counted(server, method, "DEADLINE_EXCEEDED")
    cancelled0 = counted(server, method, "CANCELLED")
    with psycopg.connect(database_url) as locker:  # one transaction, rolled back on exit
        locker.execute("lock table booking.bookings in exclusive mode")
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.ReserveSeat(booking_pb2.ReserveSeatRequest(
                event_id=event.id, user_id="late"), timeout=0.5)
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        call = stub.ReserveSeat(booking_pb2.ReserveSeatRequest(event_id=event.id,
                                                               user_id="gone"))
        await asyncio.sleep(0.3)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        locker.rollback()
    for _ in range(100):
        if (counted(server, method, "DEADLINE_EXCEEDED") > deadline0
                and counted(server, method, "CANCELLED") > cancelled0):
            break
        await asyncio.sleep(0.05)
    assert counted(server, method, "DEADLINE_EXCEEDED") == deadline0 + 1
    assert counted(server, method, "CANCELLED") == cancelled0 + 1
