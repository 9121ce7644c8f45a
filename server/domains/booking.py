"""BookingService: seats for events. Every rule is in sql/booking/; this calls it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import asyncpg
import grpc
from tally.booking.v1 import booking_pb2 as pb
from tally.booking.v1 import booking_pb2_grpc as pb_grpc

from ..core import convert, db, errors, paging
from ..core.batching import Batcher
from ..core.cache import CachedById
from ..core.idempotency import key_and_scope

if TYPE_CHECKING:
    from ..core.context import App
    from ..core.rpc import Registrar

SERVICE = pb.DESCRIPTOR.services_by_name["BookingService"].full_name


def event_key(event_id: int) -> str:
    return f"tally:booking:event:{event_id}"


def _event(row: asyncpg.Record) -> pb.Event:
    return pb.Event(id=row["id"], name=row["name"], total_seats=row["total_seats"],
                    available_seats=row["available_seats"])


def _booking(row: asyncpg.Record) -> pb.Booking:
    return pb.Booking(id=row["booking_id"], event_id=row["event_id"], user_id=row["user_id"],
                      created_at=convert.timestamp(row["created_at"]))


# event_id, user_id, idempotency key (or None), its scope
Reservation = tuple[int, str, str | None, str]


class BookingService(pb_grpc.BookingServiceServicer):
    def __init__(self, app: App) -> None:
        self.pool = app.pool
        self.events = CachedById(
            app.redis, "booking.event", event_key, app.settings.event_cache_ttl,
            self._load_event,
            encode=lambda e: [e.name, e.total_seats, e.available_seats],
            decode=lambda event_id, v: pb.Event(id=event_id, name=v[0], total_seats=v[1],
                                                available_seats=v[2]))
        self.reservations: Batcher[Reservation, pb.Booking] = app.batcher(
            "booking.reserve_seats", self._reserve_batch)

    async def CreateEvent(self, request: pb.CreateEventRequest, context: Any) -> pb.Event:
        row = await db.fetch_row(self.pool, "select * from booking.create_event($1, $2, $3, $4)",
                                 convert.text("name", request.name), request.total_seats,
                                 *key_and_scope(context))
        return _event(row)

    async def GetEvent(self, request: pb.GetEventRequest, context: Any) -> pb.Event:
        return await self.events.get(request.event_id)

    async def _load_event(self, event_id: int) -> pb.Event:
        return _event(await db.fetch_row(self.pool, "select * from booking.get_event($1)",
                                         event_id))

    async def ListEvents(self, request: pb.ListEventsRequest, context: Any
                         ) -> pb.ListEventsResponse:
        rows, token = await paging.fetch_page(
            self.pool, "select * from booking.list_events($1, $2)", "e", request.page_token,
            request.page_size)
        return pb.ListEventsResponse(events=[_event(r) for r in rows], next_page_token=token)

    async def ReserveSeat(self, request: pb.ReserveSeatRequest, context: Any) -> pb.Booking:
        return await self.reservations.submit(
            (request.event_id, convert.text("user_id", request.user_id),
             *key_and_scope(context)))

    async def _reserve_batch(self, items: list[Reservation]
                             ) -> list[pb.Booking | errors.RpcError]:
        keyed = any(key is not None for _, _, key, _ in items)
        try:
            rows = await self.pool.fetch(
                "select * from booking.reserve_seats($1, $2, $3, $4)",
                [item[0] for item in items], [item[1] for item in items],
                [item[2] for item in items] if keyed else None,
                [item[3] for item in items] if keyed else None)
        except asyncpg.PostgresError as exc:
            # A statement timeout is not one item's fault: retried item by item, each
            # could wait as long again.
            if len(items) == 1 or errors.status_for_sqlstate(exc.sqlstate) in (
                    grpc.StatusCode.INTERNAL, grpc.StatusCode.UNAVAILABLE,
                    grpc.StatusCode.DEADLINE_EXCEEDED):
                raise
            # Something in one item failed the whole statement: give each its own answer.
            results: list[pb.Booking | errors.RpcError] = []
            for item in items:
                try:
                    results.extend(await self._reserve_batch([item]))
                except asyncpg.PostgresError as single:
                    results.append(errors.from_postgres(single))
            return results
        # Committed: drop the cached availability before anyone is answered.
        booked = sorted({r["event_id"] for r in rows if r["booking_id"] is not None})
        await self.events.invalidate(booked)
        return [errors.outcome(r, _booking) for r in rows]

    async def GetBooking(self, request: pb.GetBookingRequest, context: Any
                         ) -> pb.GetBookingResponse:
        row = await db.fetch_row(self.pool, "select * from booking.get_booking($1)",
                                 request.booking_id)
        return pb.GetBookingResponse(
            booking=pb.Booking(id=row["id"], event_id=row["event_id"], user_id=row["user_id"],
                               created_at=convert.timestamp(row["created_at"])),
            event=pb.Event(id=row["event_id"], name=row["event_name"],
                           total_seats=row["total_seats"],
                           available_seats=row["available_seats"]),
        )

    async def CancelBooking(self, request: pb.CancelBookingRequest, context: Any
                            ) -> pb.CancelBookingResponse:
        event_id = await self.pool.fetchval("select booking.cancel_booking($1, $2, $3)",
                                            request.booking_id, *key_and_scope(context))
        await self.events.invalidate([event_id])
        return pb.CancelBookingResponse()

    async def GetUserBookingStats(self, request: pb.GetUserBookingStatsRequest, context: Any
                                  ) -> pb.UserBookingStats:
        row = await db.fetch_row(self.pool, "select * from booking.user_booking_stats($1)",
                                 convert.text("user_id", request.user_id))
        return pb.UserBookingStats(user_id=row["user_id"], bookings_count=row["bookings_count"])



def add_services(server: Registrar, app: App) -> list[str]:
    pb_grpc.add_BookingServiceServicer_to_server(BookingService(app), server.as_server())
    return [SERVICE]
