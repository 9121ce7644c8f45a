"""ClickService: banner clicks per minute. Every rule is in sql/clicks/; this calls it."""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from tally.clicks.v1 import clicks_pb2 as pb
from tally.clicks.v1 import clicks_pb2_grpc as pb_grpc

from . import errors, metrics
from .batching import Batcher
from .jobs import Job

if TYPE_CHECKING:
    from .app import App

log = logging.getLogger("tally.clicks")

SERVICE = pb.DESCRIPTOR.services_by_name["ClickService"].full_name
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100

# Hourly: creates the coming days' partitions and drops expired ones (idempotent, so a
# missed or repeated run does no harm; the default partition catches clicks meanwhile).
JOBS = [
    Job(name="clicks.maintain_partitions",
        sql="select count(*) from clicks.maintain_partitions($1)",
        every=timedelta(hours=1)),
]

_RECORDED = pb.RecordClickResponse()
_RECORD_SQL = (
    "select ord, error_sqlstate, error_reason, error_message, error_field"
    " from clicks.record_clicks($1, $2, $3) where error_sqlstate is not null"
)


def _timestamp(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def _banner(row: asyncpg.Record) -> pb.Banner:
    return pb.Banner(id=row["id"], name=row["name"], created_at=_timestamp(row["created_at"]))


def _no_nul(field: str, value: str) -> str:
    # PostgreSQL text cannot hold NUL; say so as the SQL rule would.
    if "\x00" in value:
        raise errors.invalid_argument(field, f"{field} must not contain NUL characters",
                                      f"{field.upper()}_INVALID")
    return value


def _time(field: str, ts: Timestamp, reason: str) -> datetime:
    try:
        return ts.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise errors.invalid_argument(field, f"{field} is out of range", reason) from None


class ClickService(pb_grpc.ClickServiceServicer):
    def __init__(self, app: App) -> None:
        self.pool = app.pool
        self.clicks: Batcher[tuple[int, datetime], pb.RecordClickResponse] = Batcher(
            "clicks.record_clicks",
            self._record_batch,
            max_size=app.settings.batch_max_size,
            max_inflight=app.settings.batch_max_inflight,
            on_batch=lambda name, n: metrics.BATCH_SIZE.labels(name).observe(n),
        )
        app.on_shutdown(self.clicks.drain)

    async def CreateBanner(self, request: pb.CreateBannerRequest, context: Any) -> pb.Banner:
        row = await self.pool.fetchrow("select * from clicks.create_banner($1)",
                                       _no_nul("name", request.name))
        return _banner(row)

    async def GetBanner(self, request: pb.GetBannerRequest, context: Any) -> pb.Banner:
        row = await self.pool.fetchrow("select * from clicks.get_banner($1)", request.banner_id)
        return _banner(row)

    async def ListBanners(self, request: pb.ListBannersRequest, context: Any
                          ) -> pb.ListBannersResponse:
        if request.page_size < 0:
            raise errors.invalid_argument("page_size", "page_size must not be negative",
                                          "PAGE_SIZE_INVALID")
        page_size = min(request.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        rows = await self.pool.fetch("select * from clicks.list_banners($1, $2)",
                                     _decode_token(request.page_token), page_size)
        token = _encode_token(rows[-1]["id"]) if len(rows) == page_size else ""
        return pb.ListBannersResponse(banners=[_banner(r) for r in rows], next_page_token=token)

    async def RecordClick(self, request: pb.RecordClickRequest, context: Any
                          ) -> pb.RecordClickResponse:
        # The click belongs to the minute the server received it, not the minute its
        # batch happens to commit in.
        return await self.clicks.submit((request.banner_id, datetime.now(UTC)))

    async def _record_batch(self, items: list[tuple[int, datetime]]
                            ) -> list[pb.RecordClickResponse | errors.RpcError]:
        try:
            failed = await self.pool.fetch(
                _RECORD_SQL, [banner_id for banner_id, _ in items], [1] * len(items),
                [received for _, received in items])
        except Exception as exc:
            # One statement: none of this batch counted. Every caller may retry.
            log.error("clicks batch of %d not recorded: %r", len(items), exc)
            raise errors.RpcError(grpc.StatusCode.UNAVAILABLE,
                                  "clicks not recorded, retry later",
                                  "CLICKS_NOT_RECORDED") from exc
        results: list[pb.RecordClickResponse | errors.RpcError] = [_RECORDED] * len(items)
        for r in failed:
            results[r["ord"] - 1] = errors.from_outcome(
                r["error_sqlstate"], r["error_reason"], r["error_message"], r["error_field"])
        return results

    async def RecordClicks(self, request: pb.RecordClicksRequest, context: Any
                           ) -> pb.RecordClicksResponse:
        banner_ids: list[int] = []
        counts: list[int] = []
        occurred: list[datetime | None] = []
        for i, c in enumerate(request.clicks):
            banner_ids.append(c.banner_id)
            counts.append(c.count)
            occurred.append(_time(f"clicks[{i}].occurred_at", c.occurred_at,
                                  "OCCURRED_AT_INVALID")
                            if c.HasField("occurred_at") else None)
        accepted = await self.pool.fetchval("select clicks.ingest_clicks($1, $2, $3)",
                                            banner_ids, counts, occurred)
        return pb.RecordClicksResponse(accepted=accepted)

    async def GetStats(self, request: pb.GetStatsRequest, context: Any) -> pb.GetStatsResponse:
        ts_from = (_time("ts_from", request.ts_from, "RANGE_INVALID")
                   if request.HasField("ts_from") else None)
        ts_to = (_time("ts_to", request.ts_to, "RANGE_INVALID")
                 if request.HasField("ts_to") else None)
        rows = await self.pool.fetch(
            "select extract(epoch from minute)::bigint, clicks from clicks.stats($1, $2, $3)",
            request.banner_id, ts_from, ts_to)
        points = [pb.StatsPoint(minute=Timestamp(seconds=s), count=n) for s, n in rows]
        return pb.GetStatsResponse(banner_id=request.banner_id, points=points,
                                   total=sum(n for _, n in rows))


def _encode_token(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"b:{last_id}".encode()).decode().rstrip("=")


def _decode_token(token: str) -> int:
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        kind, _, value = raw.partition(":")
        if kind != "b":
            raise ValueError(raw)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise errors.invalid_argument("page_token", "page_token is not one this server issued",
                                      "PAGE_TOKEN_INVALID") from None


def add_services(server: grpc.aio.Server, app: App) -> list[str]:
    pb_grpc.add_ClickServiceServicer_to_server(ClickService(app), server)
    return [SERVICE]
