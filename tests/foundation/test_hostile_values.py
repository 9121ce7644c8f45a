"""Values at and past the edges of their types get a documented reason and field, change
nothing, and never an INTERNAL answer (one test per value found to misbehave)."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from tally.booking.v1 import booking_pb2 as bpb
from tally.booking.v1 import booking_pb2_grpc as bpb_grpc
from tally.clicks.v1 import clicks_pb2 as cpb
from tally.clicks.v1 import clicks_pb2_grpc as cpb_grpc
from tally.segments.v1 import segments_pb2 as spb
from tally.segments.v1 import segments_pb2_grpc as spb_grpc
from tally.shop.v1 import shop_pb2 as pb

from server.core import convert
from tests.shop.helpers import Stubs, item, new_category, new_product, new_user
from tests.support import expect_error, status_details

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def field_of(err: grpc.aio.AioRpcError) -> str:
    return status_details(err)["ErrorInfo"].metadata["field"]


@pytest.fixture(scope="module")
def segments(channel):
    return spb_grpc.SegmentServiceStub(channel)


@pytest.fixture(scope="module")
def booking(channel):
    return bpb_grpc.BookingServiceStub(channel)


@pytest.fixture(scope="module")
def clicks(channel):
    return cpb_grpc.ClickServiceStub(channel)


@pytest.fixture(scope="module")
def shop(channel):
    return Stubs(channel)


async def _user_with_segment(segments) -> tuple[int, str]:
    user_id = 5_000_000_000 + uuid.uuid4().int % 1_000_000_000
    slug = f"edge_{uuid.uuid4().hex[:12]}"
    await segments.CreateUser(spb.CreateUserRequest(user_id=user_id))
    await segments.CreateSegment(spb.CreateSegmentRequest(slug=slug))
    return user_id, slug


@pytest.mark.parametrize("expires_at, why", [
    (Timestamp(seconds=convert.TIMESTAMP_MAX_SECONDS + 1), "after 9999-12-31"),
    (Timestamp(seconds=convert.TIMESTAMP_MIN_SECONDS - 1), "before 0001-01-01"),
    (Timestamp(seconds=2**62), "far beyond datetime"),
    (Timestamp(seconds=2_000_000_000, nanos=1_000_000_000), "nanos of a whole second"),
    (Timestamp(seconds=2_000_000_000, nanos=-1), "negative nanos"),
])
async def test_expires_at_outside_timestamp_range(segments, admin_db, expires_at, why):
    user_id, slug = await _user_with_segment(segments)
    err = await expect_error(segments.UpdateUserSegments(spb.UpdateUserSegmentsRequest(
        user_id=user_id, add=[spb.SegmentToAdd(slug=slug, expires_at=expires_at)])),
        INVALID, "EXPIRES_AT_INVALID")
    assert field_of(err) == "add[0].expires_at", why
    assert admin_db.execute("select count(*) from segments.memberships where user_id = %s",
                            (user_id,)).fetchone()[0] == 0


async def test_expires_at_at_the_last_instant_is_exact_not_infinite(segments):
    # 9999-12-31T23:59:59.999999Z is datetime.max, which the driver would send as
    # 'infinity'; it is a valid Timestamp before the year 10000, so it is kept as it is.
    user_id, slug = await _user_with_segment(segments)
    last = Timestamp(seconds=convert.TIMESTAMP_MAX_SECONDS, nanos=999_999_000)
    reply = await segments.UpdateUserSegments(spb.UpdateUserSegmentsRequest(
        user_id=user_id, add=[spb.SegmentToAdd(slug=slug, expires_at=last)]))
    assert reply.added[0].expires_at == last
    got = await segments.GetUserSegments(spb.GetUserSegmentsRequest(user_id=user_id))
    assert [m.expires_at for m in got.segments] == [last]


@pytest.mark.parametrize("ttl, reason, why", [
    (Duration(seconds=convert.DURATION_MAX_SECONDS + 1), "TTL_INVALID", "past 10,000 years"),
    (Duration(seconds=2**62), "TTL_INVALID", "beyond timedelta"),
    (Duration(seconds=60, nanos=1_000_000_000), "TTL_INVALID", "nanos of a whole second"),
    (Duration(seconds=60, nanos=-5), "TTL_INVALID", "nanos of the other sign"),
    (Duration(seconds=convert.DURATION_MAX_SECONDS), "EXPIRY_OUT_OF_RANGE", "10,000 years"),
])
async def test_huge_or_invalid_ttl(segments, admin_db, ttl, reason, why):
    user_id, slug = await _user_with_segment(segments)
    err = await expect_error(segments.UpdateUserSegments(spb.UpdateUserSegmentsRequest(
        user_id=user_id, add=[spb.SegmentToAdd(slug=slug, ttl=ttl)])), INVALID, reason)
    assert field_of(err) in ("add[0].ttl", "add"), why
    assert admin_db.execute("select count(*) from segments.memberships where user_id = %s",
                            (user_id,)).fetchone()[0] == 0


@pytest.mark.parametrize("percent", ["1e131072", "-1e200000", "1e-200000", "NaN", "-Infinity",
                                     "1e1001", "\x00", "12\x005"])
async def test_auto_percent_out_of_numeric_range(segments, admin_db, percent):
    slug = f"pct_{uuid.uuid4().hex[:12]}"
    err = await expect_error(segments.CreateSegment(spb.CreateSegmentRequest(
        slug=slug, auto_percent=percent)), INVALID, "AUTO_PERCENT_INVALID")
    assert field_of(err) == "auto_percent"
    assert admin_db.execute("select count(*) from segments.segments where slug = %s",
                            (slug,)).fetchone()[0] == 0


async def test_sales_statistics_at_the_ends_of_the_calendar(shop):
    for date_from, date_to in (("0001-01-01", "0001-01-31"), ("9999-12-01", "9999-12-31")):
        reply = await shop.orders.GetSalesStatistics(pb.GetSalesStatisticsRequest(
            date_from=date_from, date_to=date_to))
        assert list(reply.statistics) == []
    err = await expect_error(shop.orders.GetSalesStatistics(pb.GetSalesStatisticsRequest(
        date_from="0001-01-01", date_to="9999-12-31")), INVALID, "DATE_RANGE_INVALID")
    assert field_of(err) == "date_from"
    reply = await shop.reports.GetReports(pb.GetReportsRequest(report_date="9999-12-31"))
    assert list(reply.reports) == []


async def test_stats_from_the_first_instant(clicks):
    banner = await clicks.CreateBanner(cpb.CreateBannerRequest(name="edge"))
    first = Timestamp(seconds=convert.TIMESTAMP_MIN_SECONDS)
    last = Timestamp(seconds=convert.TIMESTAMP_MAX_SECONDS)
    err = await expect_error(clicks.GetStats(cpb.GetStatsRequest(
        banner_id=banner.id, ts_from=first, ts_to=last)), INVALID, "RANGE_TOO_LONG")
    assert "finite" not in err.details()
    hour = Timestamp(seconds=convert.TIMESTAMP_MIN_SECONDS + 3600)
    reply = await clicks.GetStats(cpb.GetStatsRequest(banner_id=banner.id, ts_from=first,
                                                      ts_to=hour))
    assert reply.total == 0
    await expect_error(clicks.GetStats(cpb.GetStatsRequest(
        banner_id=banner.id, ts_from=Timestamp(seconds=0, nanos=-1), ts_to=first)),
        INVALID, "RANGE_INVALID")


@pytest.mark.parametrize("value", ["9223372036854775808", "99999999999999999999999", "-1", "+5",
                                   "1_000", " 7"])
async def test_page_token_beyond_int64(booking, clicks, value):
    for kind, call in (("e", lambda t: booking.ListEvents(bpb.ListEventsRequest(page_token=t))),
                       ("b", lambda t: clicks.ListBanners(cpb.ListBannersRequest(page_token=t)))):
        token = base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")
        err = await expect_error(call(token), INVALID, "PAGE_TOKEN_INVALID")
        assert field_of(err) == "page_token"


async def test_full_last_page_has_no_next_token(booking, admin_db):
    await booking.CreateEvent(bpb.CreateEventRequest(name="edge page", total_seats=1))
    total = admin_db.execute("select count(*) from booking.events").fetchone()[0]
    size = min(total, 100)
    # Page so that the last page is exactly full: start after the id that leaves `size`.
    after = admin_db.execute("select id from booking.events order by id desc offset %s limit 1",
                             (size,)).fetchone()
    token = (base64.urlsafe_b64encode(f"e:{after[0]}".encode()).decode().rstrip("=")
             if after else "")
    page = await booking.ListEvents(bpb.ListEventsRequest(page_size=size, page_token=token))
    assert len(page.events) == size
    assert page.next_page_token == ""
    if size > 1:
        first = await booking.ListEvents(bpb.ListEventsRequest(page_size=size - 1,
                                                               page_token=token))
        assert first.next_page_token != ""


async def test_nul_in_price_filters_is_price_invalid(shop):
    for request in (pb.ListProductsRequest(min_price="1\x00"),
                    pb.ListProductsRequest(max_price="\x00")):
        err = await expect_error(shop.products.ListProducts(request), INVALID, "PRICE_INVALID")
        assert field_of(err) in ("min_price", "max_price")


async def test_order_total_overflow(shop, admin_db):
    user, address = await new_user(shop)
    category = await new_category(shop)
    dear = await new_product(shop, category.id, stock=1000, price="9999999999.99")
    before = admin_db.execute("select count(*) from shop.orders").fetchone()[0]
    err = await expect_error(shop.orders.CreateOrder(pb.CreateOrderRequest(
        user_id=user.id, delivery_address_id=address.id, items=[item(dear.id, 101)])),
        INVALID, "TOTAL_TOO_LARGE")
    assert field_of(err) == "items"
    assert admin_db.execute("select count(*) from shop.orders").fetchone()[0] == before
    assert (await shop.products.GetProduct(pb.GetProductRequest(product_id=dear.id))
            ).stock_quantity == 1000


async def test_too_many_items(shop):
    user, address = await new_user(shop)
    product = await new_product(shop, (await new_category(shop)).id)
    err = await expect_error(shop.orders.CreateOrder(pb.CreateOrderRequest(
        user_id=user.id, delivery_address_id=address.id, items=[item(product.id, 1)] * 101)),
        INVALID, "TOO_MANY_ITEMS")
    assert field_of(err) == "items"
    assert status_details(err)["ErrorInfo"].metadata["limit"] == "100"


async def test_insufficient_stock_and_already_booked_name_a_field(shop, booking):
    user, address = await new_user(shop)
    product = await new_product(shop, (await new_category(shop)).id, stock=1)
    err = await expect_error(shop.orders.CreateOrder(pb.CreateOrderRequest(
        user_id=user.id, delivery_address_id=address.id, items=[item(product.id, 2)])),
        grpc.StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_STOCK")
    assert field_of(err) == "items"
    event = await booking.CreateEvent(bpb.CreateEventRequest(name="edge", total_seats=1))
    await booking.ReserveSeat(bpb.ReserveSeatRequest(event_id=event.id, user_id="edge-a"))
    err = await expect_error(booking.ReserveSeat(bpb.ReserveSeatRequest(
        event_id=event.id, user_id="edge-a")), grpc.StatusCode.ALREADY_EXISTS, "ALREADY_BOOKED")
    assert field_of(err) == "user_id"
    err = await expect_error(booking.ReserveSeat(bpb.ReserveSeatRequest(
        event_id=event.id, user_id="edge-b")), grpc.StatusCode.FAILED_PRECONDITION, "SOLD_OUT")
    assert field_of(err) == "event_id"


async def test_page_above_a_million(shop):
    err = await expect_error(shop.users.ListUsers(pb.ListUsersRequest(count=10, page=1_000_001)),
                             INVALID, "PAGE_INVALID")
    assert "1000000" in err.details() and "or more" not in err.details()
    assert field_of(err) == "page"


def test_timestamp_conversion_is_exact_at_the_ends():
    assert convert.timestamptz("t", Timestamp(seconds=convert.TIMESTAMP_MIN_SECONDS), "X") \
        == "0001-01-01T00:00:00+00:00"
    assert convert.to_datetime("t", Timestamp(seconds=1, nanos=999_999), "X") \
        == datetime(1970, 1, 1, 0, 0, 1, 999, tzinfo=UTC)
    assert convert.to_timedelta("d", Duration(seconds=-1, nanos=-500_000_000), "X") \
        == timedelta(seconds=-1.5)
