"""BookingService end to end over gRPC: every RPC, every error status and reason."""

from __future__ import annotations

import uuid

import grpc
import pytest
from tally.booking.v1 import booking_pb2 as pb
from tally.booking.v1 import booking_pb2_grpc as pb_grpc

from tests.support import check_paging, expect_error, status_details


@pytest.fixture(scope="module")
def stub(channel: grpc.aio.Channel) -> pb_grpc.BookingServiceStub:
    return pb_grpc.BookingServiceStub(channel)


def user() -> str:
    return f"user-{uuid.uuid4().hex[:12]}"



async def test_create_and_get_event(stub):
    event = await stub.CreateEvent(pb.CreateEventRequest(name="Concert", total_seats=100))
    assert event.id > 0
    assert (event.name, event.total_seats, event.available_seats) == ("Concert", 100, 100)
    assert await stub.GetEvent(pb.GetEventRequest(event_id=event.id)) == event


@pytest.mark.parametrize(
    ("name", "seats", "field", "reason"),
    [
        ("", 1, "name", "NAME_INVALID"),
        ("x" * 201, 1, "name", "NAME_INVALID"),
        ("ok", -1, "total_seats", "TOTAL_SEATS_INVALID"),
        ("nul\x00byte", 1, "name", "NAME_INVALID"),
    ],
)
async def test_create_event_invalid(stub, admin_db, name, seats, field, reason):
    before = admin_db.execute("select count(*) from booking.events").fetchone()[0]
    err = await expect_error(stub.CreateEvent(pb.CreateEventRequest(name=name, total_seats=seats)),
                             grpc.StatusCode.INVALID_ARGUMENT, reason)
    violations = status_details(err)["BadRequest"].field_violations
    assert [v.field for v in violations] == [field]
    assert admin_db.execute("select count(*) from booking.events").fetchone()[0] == before


async def test_get_event_errors(stub):
    await expect_error(stub.GetEvent(pb.GetEventRequest(event_id=2**62)),
                       grpc.StatusCode.NOT_FOUND, "EVENT_NOT_FOUND")
    await expect_error(stub.GetEvent(pb.GetEventRequest(event_id=0)),
                       grpc.StatusCode.INVALID_ARGUMENT, "EVENT_ID_INVALID")


async def test_list_events_pages_through_everything(stub):
    created = [
        (await stub.CreateEvent(pb.CreateEventRequest(name=f"List {i}", total_seats=i))).id
        for i in range(7)
    ]
    seen = await check_paging(stub.ListEvents, pb.ListEventsRequest, "events")
    assert set(created) <= set(seen)


async def test_reserve_get_cancel_booking(stub):
    event = await stub.CreateEvent(pb.CreateEventRequest(name="Opera", total_seats=1))
    who = user()
    booking = await stub.ReserveSeat(pb.ReserveSeatRequest(event_id=event.id, user_id=who))
    assert (booking.event_id, booking.user_id) == (event.id, who)
    assert booking.created_at.seconds > 0

    got = await stub.GetBooking(pb.GetBookingRequest(booking_id=booking.id))
    assert got.booking == booking
    assert (got.event.id, got.event.name, got.event.available_seats) == (event.id, "Opera", 0)

    await expect_error(stub.ReserveSeat(pb.ReserveSeatRequest(event_id=event.id, user_id=who)),
                       grpc.StatusCode.ALREADY_EXISTS, "ALREADY_BOOKED")
    await expect_error(stub.ReserveSeat(pb.ReserveSeatRequest(event_id=event.id,
                                                              user_id=user())),
                       grpc.StatusCode.FAILED_PRECONDITION, "SOLD_OUT")

    assert await stub.CancelBooking(pb.CancelBookingRequest(booking_id=booking.id)) == \
        pb.CancelBookingResponse()
    await expect_error(stub.GetBooking(pb.GetBookingRequest(booking_id=booking.id)),
                       grpc.StatusCode.NOT_FOUND, "BOOKING_NOT_FOUND")
    await expect_error(stub.CancelBooking(pb.CancelBookingRequest(booking_id=booking.id)),
                       grpc.StatusCode.NOT_FOUND, "BOOKING_NOT_FOUND")
    again = await stub.ReserveSeat(pb.ReserveSeatRequest(event_id=event.id, user_id=user()))
    assert again.id != booking.id


@pytest.mark.parametrize(
    ("event_id", "user_id", "code", "reason"),
    [
        (2**62, "someone", grpc.StatusCode.NOT_FOUND, "EVENT_NOT_FOUND"),
        (0, "someone", grpc.StatusCode.INVALID_ARGUMENT, "EVENT_ID_INVALID"),
        (-5, "someone", grpc.StatusCode.INVALID_ARGUMENT, "EVENT_ID_INVALID"),
        (None, "", grpc.StatusCode.INVALID_ARGUMENT, "USER_ID_INVALID"),
        (None, "u" * 256, grpc.StatusCode.INVALID_ARGUMENT, "USER_ID_INVALID"),
        (None, "nul\x00", grpc.StatusCode.INVALID_ARGUMENT, "USER_ID_INVALID"),
    ],
)
async def test_reserve_seat_errors(stub, event_id, user_id, code, reason):
    if event_id is None:
        event_id = (await stub.CreateEvent(pb.CreateEventRequest(name="E", total_seats=5))).id
    err = await expect_error(
        stub.ReserveSeat(pb.ReserveSeatRequest(event_id=event_id, user_id=user_id)), code, reason)
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        field = "user_id" if reason == "USER_ID_INVALID" else "event_id"
        assert status_details(err)["BadRequest"].field_violations[0].field == field


async def test_booking_id_errors(stub):
    for call in (stub.GetBooking(pb.GetBookingRequest(booking_id=0)),
                 stub.CancelBooking(pb.CancelBookingRequest(booking_id=-1))):
        await expect_error(call, grpc.StatusCode.INVALID_ARGUMENT, "BOOKING_ID_INVALID")
    await expect_error(stub.GetBooking(pb.GetBookingRequest(booking_id=2**62)),
                       grpc.StatusCode.NOT_FOUND, "BOOKING_NOT_FOUND")


async def test_user_booking_stats(stub):
    who = user()
    stats = await stub.GetUserBookingStats(pb.GetUserBookingStatsRequest(user_id=who))
    assert (stats.user_id, stats.bookings_count) == (who, 0)
    for i in range(3):
        event = await stub.CreateEvent(pb.CreateEventRequest(name=f"S{i}", total_seats=1))
        await stub.ReserveSeat(pb.ReserveSeatRequest(event_id=event.id, user_id=who))
    stats = await stub.GetUserBookingStats(pb.GetUserBookingStatsRequest(user_id=who))
    assert stats.bookings_count == 3
    await expect_error(stub.GetUserBookingStats(pb.GetUserBookingStatsRequest(user_id="")),
                       grpc.StatusCode.INVALID_ARGUMENT, "USER_ID_INVALID")
