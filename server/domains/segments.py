"""SegmentService: dynamic user segments. Every rule is in sql/segments/; this calls it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
from tally.segments.v1 import segments_pb2 as pb
from tally.segments.v1 import segments_pb2_grpc as pb_grpc

from ..core import convert, db, errors
from ..core.batching import Batcher
from ..core.idempotency import key_and_scope
from ..jobs.job import Job

if TYPE_CHECKING:
    from ..core.context import App
    from ..core.rpc import Registrar

SERVICE = pb.DESCRIPTOR.services_by_name["SegmentService"].full_name

# Expiry bookkeeping: reads never depend on it (see sql/segments/50_expire_memberships.sql).
JOBS = [
    Job(name="segments.expire_memberships", sql="select segments.expire_memberships($1)",
        every=timedelta(minutes=1)),
]

# ExportHistory: chunks of about this many bytes, at most this many waiting to be sent.
# The COPY is read only as fast as the client takes chunks, so a slow client holds the
# server to EXPORT_QUEUE_CHUNKS * EXPORT_CHUNK_BYTES, never the month.
EXPORT_CHUNK_BYTES = 64 * 1024
EXPORT_QUEUE_CHUNKS = 8
EXPORT_SQL = "select * from segments.export_history($1::integer, $2::integer, $3::bigint)"
# asyncpg counts the time spent waiting for a slow client against the COPY's timeout
# (the pool's default is 30 s); the client's own deadline is the real limit.
EXPORT_TIMEOUT_SECONDS = 3600.0


# An UpdateUserSegments call: user id, add slugs, remove slugs, each add's expires_at
# (as text) and ttl, idempotency key and scope.
_Update = tuple[int, list[str], list[str], list[str | None], list[timedelta | None], str | None,
                str]


_R = TypeVar("_R", pb.GetUserSegmentsResponse, pb.UpdateUserSegmentsResponse)


def _answers(replies: list[_R], rows: list[asyncpg.Record],
             add: Callable[[_R, asyncpg.Record], None]) -> list[_R | errors.RpcError]:
    """Each call's answer from a batch function's rows (segments.user_segments_batch,
    update_user_segments_batch): a row with ord = i adds to call i's reply, or is call
    i's error, which then comes alone."""
    results: list[_R | errors.RpcError] = list(replies)
    for r in rows:
        i = r["ord"] - 1
        reply = results[i]
        if r["error_sqlstate"] is not None:
            results[i] = errors.from_outcome(r)
        elif not isinstance(reply, errors.RpcError):
            add(reply, r)
    return results


def _percent_text(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


class SegmentService(pb_grpc.SegmentServiceServicer):
    def __init__(self, app: App) -> None:
        self.pool = app.pool
        # Concurrent GetUserSegments calls share one statement (a read, so no commit to
        # share: one round trip and one pooled connection for the wave instead of each).
        self.reads: Batcher[int, pb.GetUserSegmentsResponse] = app.batcher(
            "segments.user_segments", self._read_batch)
        # Concurrent UpdateUserSegments calls share one statement and one commit
        # (segments.update_user_segments_batch: each call still atomic on its own).
        self.updates: Batcher[_Update, pb.UpdateUserSegmentsResponse] = app.batcher(
            "segments.update_user_segments", self._update_batch)

    async def CreateUser(self, request: pb.CreateUserRequest, context: Any
                         ) -> pb.CreateUserResponse:
        row = await db.fetch_row(self.pool, "select * from segments.create_user($1, $2, $3)",
                                 request.user_id, *key_and_scope(context))
        return pb.CreateUserResponse(
            user=pb.User(user_id=row["user_id"], created_at=convert.timestamp(row["created_at"])),
            created=row["created"])

    async def DeleteUser(self, request: pb.DeleteUserRequest, context: Any
                         ) -> pb.DeleteUserResponse:
        ended = await self.pool.fetchval("select segments.delete_user($1, $2, $3)",
                                         request.user_id, *key_and_scope(context))
        return pb.DeleteUserResponse(memberships_ended=ended)

    async def CreateSegment(self, request: pb.CreateSegmentRequest, context: Any
                            ) -> pb.CreateSegmentResponse:
        percent = (convert.decimal("auto_percent", request.auto_percent, "AUTO_PERCENT_INVALID")
                   if request.HasField("auto_percent") else None)
        row = await db.fetch_row(self.pool,
                                 "select * from segments.create_segment($1, $2, $3, $4)",
                                 convert.text("slug", request.slug, "SLUG_INVALID"), percent,
                                 *key_and_scope(context))
        return pb.CreateSegmentResponse(
            segment=pb.Segment(id=row["id"], slug=row["slug"],
                               auto_percent=_percent_text(row["auto_percent"]),
                               created_at=convert.timestamp(row["created_at"])),
            auto_members=row["auto_members"])

    async def DeleteSegment(self, request: pb.DeleteSegmentRequest, context: Any
                            ) -> pb.DeleteSegmentResponse:
        ended = await self.pool.fetchval("select segments.delete_segment($1, $2, $3)",
                                         convert.text("slug", request.slug, "SLUG_INVALID"),
                                         *key_and_scope(context))
        return pb.DeleteSegmentResponse(memberships_ended=ended)

    async def UpdateUserSegments(self, request: pb.UpdateUserSegmentsRequest, context: Any
                                 ) -> pb.UpdateUserSegmentsResponse:
        adds = request.add
        return await self.updates.submit((
            request.user_id,
            [convert.text("add", a.slug, "SLUG_INVALID") for a in adds],
            [convert.text("remove", s, "SLUG_INVALID") for s in request.remove],
            [convert.timestamptz(f"add[{i}].expires_at", a.expires_at, "EXPIRES_AT_INVALID")
             if a.HasField("expires_at") else None for i, a in enumerate(adds)],
            [convert.to_timedelta(f"add[{i}].ttl", a.ttl, "TTL_INVALID")
             if a.HasField("ttl") else None for i, a in enumerate(adds)],
            *key_and_scope(context)))

    async def _update_batch(self, items: list[_Update]
                            ) -> list[pb.UpdateUserSegmentsResponse | errors.RpcError]:
        # Each call's slugs, flattened: adds (with their expiry) then removes, tagged with
        # the call's number.
        slug_items: list[int] = []
        slugs: list[str] = []
        is_adds: list[bool] = []
        expires: list[str | None] = []
        ttls: list[timedelta | None] = []
        for n, (_, add, remove, add_expires, add_ttls, _, _) in enumerate(items, 1):
            slug_items.extend([n] * (len(add) + len(remove)))
            slugs.extend(add)
            slugs.extend(remove)
            is_adds.extend([True] * len(add))
            is_adds.extend([False] * len(remove))
            expires.extend(add_expires)
            expires.extend([None] * len(remove))
            ttls.extend(add_ttls)
            ttls.extend([None] * len(remove))
        keyed = any(item[5] is not None for item in items)
        rows = await self.pool.fetch(
            "select * from segments.update_user_segments_batch("
            "$1, $2, $3, $4, $5::text[]::timestamptz[], $6, $7, $8)",
            [item[0] for item in items], slug_items, slugs, is_adds, expires, ttls,
            [item[5] for item in items] if keyed else None,
            [item[6] for item in items] if keyed else None)

        def put(reply: pb.UpdateUserSegmentsResponse, r: asyncpg.Record) -> None:
            if r["operation"] == "add":
                reply.added.append(pb.AddedSegment(slug=r["slug"], added=r["changed"],
                                                   expires_at=convert.timestamp(r["expires_at"])))
            else:
                reply.removed.append(pb.RemovedSegment(slug=r["slug"], removed=r["changed"]))

        return _answers([pb.UpdateUserSegmentsResponse() for _ in items], rows, put)

    async def GetUserSegments(self, request: pb.GetUserSegmentsRequest, context: Any
                              ) -> pb.GetUserSegmentsResponse:
        return await self.reads.submit(request.user_id)

    async def _read_batch(self, user_ids: list[int]
                          ) -> list[pb.GetUserSegmentsResponse | errors.RpcError]:
        rows = await self.pool.fetch(
            "select * from segments.user_segments_batch($1::bigint[])", user_ids)

        def put(reply: pb.GetUserSegmentsResponse, r: asyncpg.Record) -> None:
            reply.segments.add(slug=r["slug"], expires_at=convert.timestamp(r["expires_at"]),
                               added_at=convert.timestamp(r["added_at"]))

        return _answers([pb.GetUserSegmentsResponse(user_id=u) for u in user_ids], rows, put)

    async def ExportHistory(self, request: pb.ExportHistoryRequest, context: Any
                            ) -> AsyncIterator[pb.ExportHistoryChunk]:
        user_id = request.user_id if request.HasField("user_id") else None
        async for data in self._copy_chunks(request.year, request.month, user_id):
            yield pb.ExportHistoryChunk(data=data)

    async def _copy_chunks(self, year: int, month: int, user_id: int | None
                           ) -> AsyncIterator[bytes]:
        """COPY the export out of PostgreSQL into a bounded queue of whole-row chunks.

        asyncpg hands the sink whole CopyData rows; while the queue is full the sink
        waits, asyncpg stops reading the socket and PostgreSQL stops sending.
        """
        queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue(
            maxsize=EXPORT_QUEUE_CHUNKS)
        pending = bytearray()

        async def sink(data: bytes) -> None:
            pending.extend(data)
            if len(pending) >= EXPORT_CHUNK_BYTES:
                await queue.put(bytes(pending))
                pending.clear()

        async def produce() -> None:
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    # The pool's statement timeout is for calls that answer at once; a
                    # COPY goes at the client's pace, and its deadline is the limit.
                    await conn.execute("set local statement_timeout = 0")
                    await conn.copy_from_query(EXPORT_SQL, year, month, user_id, output=sink,
                                               format="csv", delimiter=";", header=True,
                                               timeout=EXPORT_TIMEOUT_SECONDS)
                if pending:
                    await queue.put(bytes(pending))
                await queue.put(None)
            except Exception as exc:
                await queue.put(exc)

        producer = asyncio.ensure_future(produce())
        try:
            while True:
                item = await queue.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            if not producer.done():  # the client went away: stop the COPY
                producer.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await producer


def add_services(server: Registrar, app: App) -> list[str]:
    pb_grpc.add_SegmentServiceServicer_to_server(SegmentService(app), server.as_server())
    return [SERVICE]
