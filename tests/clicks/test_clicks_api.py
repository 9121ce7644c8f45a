"""ClickService end to end over gRPC: every RPC, every error status and reason."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from tally.clicks.v1 import clicks_pb2 as pb
from tally.clicks.v1 import clicks_pb2_grpc as pb_grpc

from tests.support import check_paging, expect_error, metrics_text, reason_of, status_details


@pytest.fixture(scope="module")
def stub(channel: grpc.aio.Channel) -> pb_grpc.ClickServiceStub:
    return pb_grpc.ClickServiceStub(channel)


def ts(value: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value)
    return out


def whole_minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)



def field_of(err: grpc.aio.AioRpcError) -> str:
    (violation,) = status_details(err)["BadRequest"].field_violations
    return violation.field


async def new_banner(stub, name: str = "Banner") -> int:
    return (await stub.CreateBanner(pb.CreateBannerRequest(name=name))).id


async def stats(stub, banner_id: int, start: datetime, end: datetime) -> pb.GetStatsResponse:
    return await stub.GetStats(pb.GetStatsRequest(banner_id=banner_id, ts_from=ts(start),
                                                  ts_to=ts(end)))


async def test_create_get_banner(stub):
    banner = await stub.CreateBanner(pb.CreateBannerRequest(name="Summer sale"))
    assert banner.id > 0 and banner.name == "Summer sale" and banner.created_at.seconds > 0
    assert await stub.GetBanner(pb.GetBannerRequest(banner_id=banner.id)) == banner


@pytest.mark.parametrize("name", ["", "x" * 201, "nul\x00byte"])
async def test_create_banner_invalid(stub, name):
    err = await expect_error(stub.CreateBanner(pb.CreateBannerRequest(name=name)),
                             grpc.StatusCode.INVALID_ARGUMENT, "NAME_INVALID")
    assert field_of(err) == "name"


async def test_get_banner_errors(stub):
    await expect_error(stub.GetBanner(pb.GetBannerRequest(banner_id=2**62)),
                       grpc.StatusCode.NOT_FOUND, "BANNER_NOT_FOUND")
    await expect_error(stub.GetBanner(pb.GetBannerRequest(banner_id=0)),
                       grpc.StatusCode.INVALID_ARGUMENT, "BANNER_ID_INVALID")


async def test_list_banners_pages_through_everything(stub):
    created = [await new_banner(stub, f"List {i}") for i in range(7)]
    seen = await check_paging(stub.ListBanners, pb.ListBannersRequest, "banners")
    assert set(created) <= set(seen)


async def test_record_click_is_visible_at_once(stub):
    banner = await new_banner(stub)
    before = datetime.now(UTC)
    for expected in range(1, 4):
        assert await stub.RecordClick(pb.RecordClickRequest(banner_id=banner)) == \
            pb.RecordClickResponse()
        after = datetime.now(UTC)
        got = await stats(stub, banner, before, after + timedelta(minutes=1))
        assert got.total == expected  # read-your-writes: no flush period
        assert got.banner_id == banner
        minutes = {p.minute.ToDatetime(tzinfo=UTC) for p in got.points}
        assert minutes <= {whole_minute(before), whole_minute(after)}


async def test_record_click_errors_fail_alone(stub):
    banner = await new_banner(stub)
    good = [stub.RecordClick(pb.RecordClickRequest(banner_id=banner)) for _ in range(20)]
    unknown = stub.RecordClick(pb.RecordClickRequest(banner_id=2**62))
    invalid = stub.RecordClick(pb.RecordClickRequest(banner_id=0))
    results = await asyncio.gather(*good, unknown, invalid, return_exceptions=True)
    assert all(r == pb.RecordClickResponse() for r in results[:20])
    assert results[20].code() == grpc.StatusCode.NOT_FOUND
    assert reason_of(results[20]) == "BANNER_NOT_FOUND"
    assert results[21].code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason_of(results[21]) == "BANNER_ID_INVALID"
    now = datetime.now(UTC)
    assert (await stats(stub, banner, now - timedelta(hours=1), now + timedelta(minutes=1))
            ).total == 20


async def test_record_clicks_bulk_and_minute_boundary(stub):
    banner = await new_banner(stub)
    t0 = whole_minute(datetime.now(UTC)) - timedelta(hours=2)
    reply = await stub.RecordClicks(pb.RecordClicksRequest(clicks=[
        pb.ClickCount(banner_id=banner, count=5, occurred_at=ts(t0)),
        pb.ClickCount(banner_id=banner, count=6,
                      occurred_at=ts(t0 + timedelta(seconds=59, microseconds=999_999))),
        pb.ClickCount(banner_id=banner, count=7, occurred_at=ts(t0 + timedelta(minutes=1))),
        pb.ClickCount(banner_id=banner, count=1),  # now
    ]))
    assert reply.accepted == 19
    got = await stats(stub, banner, t0, t0 + timedelta(minutes=2))
    assert [(p.minute.ToDatetime(tzinfo=UTC), p.count) for p in got.points] == [
        (t0, 11), (t0 + timedelta(minutes=1), 7)]
    assert got.total == 18
    # The end minute is excluded, also when ts_to is inside it; ts_from's minute counts.
    got = await stats(stub, banner, t0 + timedelta(seconds=30), t0 + timedelta(seconds=90))
    assert [(p.minute.ToDatetime(tzinfo=UTC), p.count) for p in got.points] == [(t0, 11)]
    now = datetime.now(UTC)
    assert (await stats(stub, banner, now - timedelta(minutes=5), now + timedelta(minutes=1))
            ).total == 1
    assert (await stub.RecordClicks(pb.RecordClicksRequest())).accepted == 0


async def test_record_clicks_all_or_nothing(stub):
    banner = await new_banner(stub)
    now = datetime.now(UTC)
    good = pb.ClickCount(banner_id=banner, count=100)

    async def rejected(bad: pb.ClickCount, code: grpc.StatusCode, reason: str, field: str):
        err = await expect_error(
            stub.RecordClicks(pb.RecordClicksRequest(clicks=[good, good, good, bad])),
            code, reason)
        info = status_details(err)["ErrorInfo"]
        assert info.metadata["field"] == field
        assert "clicks[3]" in err.details()
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            assert field_of(err) == field

    await rejected(pb.ClickCount(banner_id=banner, count=0),
                   grpc.StatusCode.INVALID_ARGUMENT, "COUNT_INVALID", "clicks[3].count")
    await rejected(pb.ClickCount(banner_id=banner, count=-4),
                   grpc.StatusCode.INVALID_ARGUMENT, "COUNT_INVALID", "clicks[3].count")
    await rejected(pb.ClickCount(banner_id=0, count=1),
                   grpc.StatusCode.INVALID_ARGUMENT, "BANNER_ID_INVALID", "clicks[3].banner_id")
    await rejected(pb.ClickCount(banner_id=2**62, count=1),
                   grpc.StatusCode.NOT_FOUND, "BANNER_NOT_FOUND", "clicks[3].banner_id")
    await rejected(pb.ClickCount(banner_id=banner, count=1,
                                 occurred_at=ts(now + timedelta(minutes=5))),
                   grpc.StatusCode.INVALID_ARGUMENT, "OCCURRED_AT_IN_FUTURE",
                   "clicks[3].occurred_at")
    await rejected(pb.ClickCount(banner_id=banner, count=1,
                                 occurred_at=ts(now - timedelta(days=7, minutes=1))),
                   grpc.StatusCode.INVALID_ARGUMENT, "OCCURRED_AT_TOO_OLD",
                   "clicks[3].occurred_at")
    await rejected(pb.ClickCount(banner_id=banner, count=1,
                                 occurred_at=Timestamp(seconds=400_000_000_000)),
                   grpc.StatusCode.INVALID_ARGUMENT, "OCCURRED_AT_INVALID",
                   "clicks[3].occurred_at")
    err = await expect_error(
        stub.RecordClicks(pb.RecordClicksRequest(clicks=[good] * 10_001)),
        grpc.StatusCode.INVALID_ARGUMENT, "TOO_MANY_CLICKS")
    assert field_of(err) == "clicks"
    got = await stats(stub, banner, now - timedelta(hours=1), now + timedelta(minutes=1))
    assert got.total == 0 and list(got.points) == []  # nothing of a rejected request counted


async def test_get_stats_errors(stub):
    banner = await new_banner(stub)
    now = datetime.now(UTC)
    cases = [
        (now, now - timedelta(minutes=1), "RANGE_REVERSED", "ts_from"),
        (whole_minute(now), whole_minute(now) + timedelta(seconds=30), "RANGE_EMPTY", "ts_to"),
        (now - timedelta(days=31, minutes=1), now, "RANGE_TOO_LONG", "ts_to"),
    ]
    for start, end, reason, field in cases:
        err = await expect_error(stats(stub, banner, start, end),
                                 grpc.StatusCode.INVALID_ARGUMENT, reason)
        assert field_of(err) == field
    assert (await stats(stub, banner, now - timedelta(days=31), now)).total == 0
    err = await expect_error(
        stub.GetStats(pb.GetStatsRequest(banner_id=banner, ts_to=ts(now))),
        grpc.StatusCode.INVALID_ARGUMENT, "RANGE_INVALID")
    assert field_of(err) == "ts_from"
    await expect_error(stats(stub, 2**62, now - timedelta(hours=1), now),
                       grpc.StatusCode.NOT_FOUND, "BANNER_NOT_FOUND")
    await expect_error(stats(stub, 0, now - timedelta(hours=1), now),
                       grpc.StatusCode.INVALID_ARGUMENT, "BANNER_ID_INVALID")


def clicks_counted(server) -> float:
    (line,) = [ln for ln in metrics_text(server.metrics_addr).splitlines()
               if ln.startswith("tally_clicks_total ")]
    return float(line.split()[1])


async def test_metrics_count_clicks_not_calls(server, stub):
    """tally_clicks_total adds what was counted: single clicks one each, a bulk call the
    sum of its counts, refused clicks and refused bulk calls nothing."""
    banner = await new_banner(stub, "Metered")
    before = clicks_counted(server)
    await asyncio.gather(*(stub.RecordClick(pb.RecordClickRequest(banner_id=banner))
                           for _ in range(5)))
    await expect_error(stub.RecordClick(pb.RecordClickRequest(banner_id=2**62)),
                       grpc.StatusCode.NOT_FOUND, "BANNER_NOT_FOUND")
    reply = await stub.RecordClicks(pb.RecordClicksRequest(clicks=[
        pb.ClickCount(banner_id=banner, count=7), pb.ClickCount(banner_id=banner, count=30)]))
    assert reply.accepted == 37
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.RecordClicks(pb.RecordClicksRequest(clicks=[
            pb.ClickCount(banner_id=banner, count=3), pb.ClickCount(banner_id=2**62, count=1)]))
    assert clicks_counted(server) - before == 5 + 37


async def test_replayed_clicks_are_not_counted_again(server, stub, admin_db):
    """A RecordClick or RecordClicks answered from its key's record counts no click:
    tally_clicks_total grows by the clicks written, whether the repeat is in the same batch
    as its first call (sent at once) or comes after it."""
    banner = await new_banner(stub, "Replayed")
    before = clicks_counted(server)

    def keyed(key: str):
        return stub.RecordClick(pb.RecordClickRequest(banner_id=banner),
                                metadata=(("idempotency-key", f"{key}-{banner}"),))

    await asyncio.gather(*(keyed(f"replayed-{i % 3}") for i in range(12)))
    await asyncio.gather(*(keyed(f"replayed-{i % 3}") for i in range(6)))
    await keyed("replayed-3")
    # RecordClicks too: a repeat of a keyed bulk call answers its `accepted` again and
    # counts nothing more.
    bulk = pb.RecordClicksRequest(clicks=[pb.ClickCount(banner_id=banner, count=10)])
    for _ in range(3):
        reply = await stub.RecordClicks(bulk, metadata=(("idempotency-key", f"bulk-{banner}"),))
        assert reply.accepted == 10
    (written,) = admin_db.execute(
        "select sum(clicks) from clicks.minute_counts where banner_id = %s", (banner,)).fetchone()
    assert written == 4 + 10
    assert clicks_counted(server) - before == 4 + 10
