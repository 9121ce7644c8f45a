"""Idempotency keys over gRPC (metadata `idempotency-key`), against real servers.

A kill -9 while keyed writes are in flight, then every call retried with its key against
a new server: each write is in the database exactly once and each answered call gets its
first answer again. Concurrent duplicates (one execution, identical answers), reuse of a
key with another request, a replayed error, an invalid key, keys per API key, and every
covered RPC answering a repeat with its first answer.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
import uuid
from typing import Any

import grpc
import psycopg
import pytest
from tally.booking.v1 import booking_pb2, booking_pb2_grpc
from tally.clicks.v1 import clicks_pb2, clicks_pb2_grpc
from tally.segments.v1 import segments_pb2, segments_pb2_grpc
from tally.shop.v1 import shop_pb2, shop_pb2_grpc

from server.core.config import APP_ROLE, with_user
from tests.support import ServerProcess, bearer, create_api_key, reason_of, status_details


def keyed(key: str, *extra: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return (("idempotency-key", key), *extra)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def setup_shop(admin_db: psycopg.Connection, stock: int) -> dict[str, int]:
    name = unique("idem")
    user = admin_db.execute("select id from shop.create_user(%s, %s)",
                            (name.replace("-", "_"), f"{name}@example.com")).fetchone()[0]
    address = admin_db.execute(
        "select id from shop.add_address(%s, 'Main 1', 'City', '', '111', 'DE', true)",
        (user,)).fetchone()[0]
    category = admin_db.execute("select id from shop.create_category(%s)", (name,)).fetchone()[0]
    product = admin_db.execute("select id from shop.create_product(%s, null, '1.00', %s, %s)",
                               (name, stock, category)).fetchone()[0]
    return {"user": user, "address": address, "product": product}


def clicks_of(admin_db: psycopg.Connection, banner: int) -> int:
    return admin_db.execute("select coalesce(sum(clicks), 0)::bigint from clicks.minute_counts"
                            " where banner_id = %s", (banner,)).fetchone()[0]


def orders_of(admin_db: psycopg.Connection, user: int) -> int:
    return admin_db.execute("select count(*) from shop.orders where user_id = %s",
                            (user,)).fetchone()[0]


def stock_of(admin_db: psycopg.Connection, product: int) -> int:
    return admin_db.execute("select stock_quantity from shop.products where id = %s",
                            (product,)).fetchone()[0]


async def test_kill_9_then_every_call_retried_with_its_key(database_url, admin_db):
    banner = admin_db.execute("select id from clicks.create_banner(%s)",
                              (unique("kill"),)).fetchone()[0]
    shop = setup_shop(admin_db, stock=1000)
    n = 100  # RecordClick and CreateOrder calls each: 200 in flight at once
    click_keys = [unique(f"click{i}") for i in range(n)]
    order_keys = [unique(f"order{i}") for i in range(n)]
    order = shop_pb2.CreateOrderRequest(
        user_id=shop["user"], delivery_address_id=shop["address"],
        items=[shop_pb2.CreateOrderRequest.Item(product_id=shop["product"], quantity=2)])
    first: dict[str, Any] = {}

    server = ServerProcess(database_url)
    await asyncio.to_thread(server.start)
    try:
        async with grpc.aio.insecure_channel(server.addr) as channel:
            clicks = clicks_pb2_grpc.ClickServiceStub(channel)
            orders = shop_pb2_grpc.OrderServiceStub(channel)
            answered = asyncio.Event()

            async def call(key: str, rpc: Any, request: Any) -> None:
                try:
                    first[key] = await rpc(request, metadata=keyed(key), timeout=20)
                    if len(first) >= 20:
                        answered.set()
                except grpc.aio.AioRpcError as err:
                    first[key] = err.code()

            calls = [asyncio.ensure_future(call(k, clicks.RecordClick,
                                                clicks_pb2.RecordClickRequest(banner_id=banner)))
                     for k in click_keys]
            calls += [asyncio.ensure_future(call(k, orders.CreateOrder, order))
                      for k in order_keys]
            await asyncio.wait_for(answered.wait(), 60)
            server.send(signal.SIGKILL)
            await asyncio.wait_for(asyncio.gather(*calls), 60)
    finally:
        await asyncio.to_thread(server.stop, signal.SIGKILL)
    failed = [k for k, v in first.items() if isinstance(v, grpc.StatusCode)]
    assert all(first[k] == grpc.StatusCode.UNAVAILABLE for k in failed), set(first.values())

    retried = ServerProcess(database_url)
    await asyncio.to_thread(retried.start)
    try:
        async with grpc.aio.insecure_channel(retried.addr) as channel:
            clicks = clicks_pb2_grpc.ClickServiceStub(channel)
            orders = shop_pb2_grpc.OrderServiceStub(channel)
            for _ in range(2):  # and a retry of the retry answers the same
                again = await asyncio.gather(
                    *(clicks.RecordClick(clicks_pb2.RecordClickRequest(banner_id=banner),
                                         metadata=keyed(k), timeout=20) for k in click_keys),
                    *(orders.CreateOrder(order, metadata=keyed(k), timeout=20)
                      for k in order_keys))
                replies = dict(zip(click_keys + order_keys, again, strict=True))
                for key, reply in replies.items():
                    if not isinstance(first[key], grpc.StatusCode):
                        assert reply == first[key], key
                placed = {replies[k].id for k in order_keys}
                assert len(placed) == n, "one order per key"
    finally:
        await asyncio.to_thread(retried.stop)
    assert clicks_of(admin_db, banner) == n, "every click counted exactly once"
    assert orders_of(admin_db, shop["user"]) == n, "every order placed exactly once"
    assert stock_of(admin_db, shop["product"]) == 1000 - 2 * n


async def test_the_same_key_20_times_at_once_is_one_execution(server, admin_db):
    shop = setup_shop(admin_db, stock=100)
    banner = admin_db.execute("select id from clicks.create_banner(%s)",
                              (unique("dup"),)).fetchone()[0]
    order = shop_pb2.CreateOrderRequest(
        user_id=shop["user"], delivery_address_id=shop["address"],
        items=[shop_pb2.CreateOrderRequest.Item(product_id=shop["product"], quantity=1)])
    async with grpc.aio.insecure_channel(server.addr) as channel:
        orders = shop_pb2_grpc.OrderServiceStub(channel)
        clicks = clicks_pb2_grpc.ClickServiceStub(channel)
        users = shop_pb2_grpc.UserServiceStub(channel)
        order_key, click_key, user_key = unique("o"), unique("c"), unique("u")
        name = unique("dupuser").replace("-", "_")
        # The first call of each leaves alone (an idle batcher sends it at once), the
        # other 19 wait for it and go out together: repeats across and within batches.
        answers = await asyncio.gather(
            *(orders.CreateOrder(order, metadata=keyed(order_key)) for _ in range(20)),
            *(clicks.RecordClick(clicks_pb2.RecordClickRequest(banner_id=banner),
                                 metadata=keyed(click_key)) for _ in range(20)),
            *(users.CreateUser(shop_pb2.CreateUserRequest(username=name,
                                                          email=f"{name}@example.com"),
                               metadata=keyed(user_key)) for _ in range(20)))
    assert len({a.SerializeToString() for a in answers[:20]}) == 1, "20 identical orders"
    assert len({a.SerializeToString() for a in answers[40:]}) == 1, "20 identical users"
    assert orders_of(admin_db, shop["user"]) == 1
    assert stock_of(admin_db, shop["product"]) == 99
    assert clicks_of(admin_db, banner) == 1
    assert admin_db.execute("select count(*) from shop.users where username = %s",
                            (name,)).fetchone()[0] == 1


def test_a_key_in_flight_makes_its_repeat_wait_for_the_first_commit(database_url):
    """Two transactions, the same key: the second waits on the first's claim and then
    answers its outcome; had the first rolled back, the second does the work."""
    app_url = with_user(database_url, APP_ROLE)
    key = unique("inflight")
    with psycopg.connect(app_url) as first, psycopg.connect(app_url, autocommit=True) as second:
        made = first.execute("select id from booking.create_event('in flight', 5, %s)",
                             (key,)).fetchone()[0]
        result: dict[str, Any] = {}

        def repeat() -> None:
            result["id"] = second.execute(
                "select id from booking.create_event('in flight', 5, %s)", (key,)).fetchone()[0]

        waiter = threading.Thread(target=repeat)
        waiter.start()
        time.sleep(0.5)
        assert waiter.is_alive(), "the repeat waits while the first is in flight"
        first.commit()
        waiter.join(10)
        assert result["id"] == made

        rolled = unique("rolled")
        first.execute("select id from booking.create_event('rolled back', 5, %s)", (rolled,))
        waiter = threading.Thread(target=lambda: result.update(id=second.execute(
            "select id from booking.create_event('rolled back', 5, %s)",
            (rolled,)).fetchone()[0]))
        waiter.start()
        time.sleep(0.3)
        first.rollback()
        waiter.join(10)
        count = second.execute("select count(*) from booking.list_events(0, 100)"
                               " where name = 'rolled back'").fetchone()[0]
        assert count == 1 and result["id"] is not None


def test_a_batch_waits_for_a_key_another_transaction_holds(database_url, admin_db):
    """A batch with a key that another transaction has claimed and not committed waits
    for it (the key's advisory lock), then answers that transaction's outcome for it and
    does its other items; had the other rolled back, the batch does the item itself."""
    app_url = with_user(database_url, APP_ROLE)
    banner = admin_db.execute("select id from clicks.create_banner(%s)",
                              (unique("held"),)).fetchone()[0]
    batch_sql = ("select ord, error_sqlstate, replayed from clicks.record_clicks("
                 "array[%s, %s]::bigint[], array[1, 1], array[now(), now()], %s) order by ord")
    with psycopg.connect(app_url) as first, psycopg.connect(app_url, autocommit=True) as second:

        def run_batch(result: dict[str, Any], keys: list[str]) -> None:
            result["rows"] = second.execute(batch_sql, (banner, banner, keys)).fetchall()

        for outcome in ("commit", "rollback"):
            held, other = unique("held"), unique("other")
            first.execute("select clicks.record_clicks(array[%s]::bigint[], array[1],"
                          " array[now()], array[%s])", (banner, held))
            result: dict[str, Any] = {}
            waiter = threading.Thread(target=run_batch, args=(result, [other, held]))
            waiter.start()
            time.sleep(0.5)
            assert waiter.is_alive(), "the batch waits while the key is held"
            getattr(first, outcome)()
            waiter.join(10)
            assert not waiter.is_alive()
            # The held key: answered from the first's record after its commit (replayed),
            # done by the batch itself after its rollback.
            assert result["rows"] == [(1, None, False), (2, None, outcome == "commit")]
        # commit: 1 (first) + 1 (other); rollback: 0 (first) + 2 (other, held).
        assert clicks_of(admin_db, banner) == 4


async def test_reuse_with_another_request_and_replayed_errors(channel, admin_db):
    events = booking_pb2_grpc.BookingServiceStub(channel)
    key = unique("reuse")
    await events.CreateEvent(booking_pb2.CreateEventRequest(name="first", total_seats=1),
                             metadata=keyed(key))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await events.CreateEvent(booking_pb2.CreateEventRequest(name="second", total_seats=1),
                                 metadata=keyed(key))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(caught.value) == "IDEMPOTENCY_KEY_REUSED"

    # An error outcome of a batched write is recorded and replayed, even once the
    # condition changed: the product runs short, then gets stock.
    shop = setup_shop(admin_db, stock=1)
    orders = shop_pb2_grpc.OrderServiceStub(channel)
    order = shop_pb2.CreateOrderRequest(
        user_id=shop["user"], delivery_address_id=shop["address"],
        items=[shop_pb2.CreateOrderRequest.Item(product_id=shop["product"], quantity=5)])
    short = unique("short")
    for _ in range(2):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await orders.CreateOrder(order, metadata=keyed(short))
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert reason_of(caught.value) == "INSUFFICIENT_STOCK"
        assert "PreconditionFailure" in status_details(caught.value)
        admin_db.execute("select shop.update_product(%s, p_stock_quantity => 50)",
                         (shop["product"],))
    assert orders_of(admin_db, shop["user"]) == 0
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await orders.CreateOrder(shop_pb2.CreateOrderRequest(
            user_id=shop["user"], delivery_address_id=shop["address"],
            items=[shop_pb2.CreateOrderRequest.Item(product_id=shop["product"], quantity=1)]),
            metadata=keyed(short))
    assert reason_of(caught.value) == "IDEMPOTENCY_KEY_REUSED"


async def test_a_single_call_failure_is_recorded_and_answered_again(channel, admin_db):
    """A keyed single call's domain error rolls its transaction back, key and all; the
    server records it against the key from the error's token (tally.remember_failure). A
    retry gets the same error even once a new run would succeed, and the key stays bound
    to its first request. (Booking is routed to a partition in sharded mode: the proxy
    finds the partition whose token it is.)"""
    booking = booking_pb2_grpc.BookingServiceStub(channel)
    missing = booking_pb2.CancelBookingRequest(booking_id=2**62)
    key = unique("fail")
    for _ in range(2):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await booking.CancelBooking(missing, metadata=keyed(key))
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        assert reason_of(caught.value) == "BOOKING_NOT_FOUND"
        assert status_details(caught.value)["ErrorInfo"].metadata["field"] == "booking_id"
    event = await booking.CreateEvent(booking_pb2.CreateEventRequest(name="fail", total_seats=1))
    seat = await booking.ReserveSeat(booking_pb2.ReserveSeatRequest(event_id=event.id,
                                                                    user_id=unique("u")))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await booking.CancelBooking(booking_pb2.CancelBookingRequest(booking_id=seat.id),
                                    metadata=keyed(key))
    assert reason_of(caught.value) == "IDEMPOTENCY_KEY_REUSED", "the failure was recorded"
    after = await booking.GetEvent(booking_pb2.GetEventRequest(event_id=event.id))
    assert after.available_seats == 0, "the booking was not cancelled"

    # The condition changes, the answer does not: the email is free again, but the retry
    # gets EMAIL_TAKEN and creates no user.
    users = shop_pb2_grpc.UserServiceStub(channel)
    email = f"{unique('taken')}@example.com"
    holder = await users.CreateUser(shop_pb2.CreateUserRequest(username=unique("holder"),
                                                               email=email))
    request = shop_pb2.CreateUserRequest(username=unique("late"), email=email)
    taken = unique("taken")
    for attempt in range(2):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await users.CreateUser(request, metadata=keyed(taken))
        assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
        assert reason_of(caught.value) == "EMAIL_TAKEN"
        if attempt == 0:
            await users.DeleteUser(shop_pb2.DeleteUserRequest(user_id=holder.id))
    assert admin_db.execute("select count(*) from shop.users where email = %s",
                            (email,)).fetchone()[0] == 0
    fresh = await users.CreateUser(request, metadata=keyed(unique("fresh")))
    assert fresh.email == email, "a new key runs the call anew"


@pytest.mark.parametrize("value", ["", "k" * 129])
async def test_an_invalid_key_is_invalid_argument(channel, value):
    banners = clicks_pb2_grpc.ClickServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await banners.CreateBanner(clicks_pb2.CreateBannerRequest(name="x"),
                                   metadata=keyed(value))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason_of(caught.value) == "IDEMPOTENCY_KEY_INVALID"
    assert status_details(caught.value)["ErrorInfo"].metadata["field"] == "idempotency-key"


async def test_keys_are_scoped_per_api_key(database_url, admin_db):
    server = ServerProcess(database_url, AUTH="required")
    await asyncio.to_thread(server.start)
    try:
        a = create_api_key(database_url, unique("idem-a"), ["clicks:write"])
        b = create_api_key(database_url, unique("idem-b"), ["clicks:write"])
        async with grpc.aio.insecure_channel(server.addr) as channel:
            banners = clicks_pb2_grpc.ClickServiceStub(channel)
            request = clicks_pb2.CreateBannerRequest(name=unique("scoped"))
            one = await banners.CreateBanner(request, metadata=keyed("shared", *bearer(a)))
            again = await banners.CreateBanner(request, metadata=keyed("shared", *bearer(a)))
            other = await banners.CreateBanner(request, metadata=keyed("shared", *bearer(b)))
    finally:
        await asyncio.to_thread(server.stop)
    assert one == again
    assert other.id != one.id, "another API key's 'shared' is another key"


async def test_every_covered_rpc_answers_a_repeat_with_its_first_answer(channel, admin_db):
    shop = setup_shop(admin_db, stock=10)
    booking = booking_pb2_grpc.BookingServiceStub(channel)
    clicks = clicks_pb2_grpc.ClickServiceStub(channel)
    segments = segments_pb2_grpc.SegmentServiceStub(channel)
    users = shop_pb2_grpc.UserServiceStub(channel)
    products = shop_pb2_grpc.ProductServiceStub(channel)
    orders = shop_pb2_grpc.OrderServiceStub(channel)

    async def twice(rpc: Any, request: Any) -> Any:
        key = unique("cover")
        answer = await rpc(request, metadata=keyed(key))
        assert await rpc(request, metadata=keyed(key)) == answer, rpc
        return answer

    event = await twice(booking.CreateEvent,
                        booking_pb2.CreateEventRequest(name="c", total_seats=2))
    seat = await twice(booking.ReserveSeat,
                       booking_pb2.ReserveSeatRequest(event_id=event.id, user_id="cover"))
    await twice(booking.CancelBooking, booking_pb2.CancelBookingRequest(booking_id=seat.id))
    banner = await twice(clicks.CreateBanner, clicks_pb2.CreateBannerRequest(name="cover"))
    await twice(clicks.RecordClick, clicks_pb2.RecordClickRequest(banner_id=banner.id))
    await twice(clicks.RecordClicks, clicks_pb2.RecordClicksRequest(
        clicks=[clicks_pb2.ClickCount(banner_id=banner.id, count=3)]))
    user_id = int(time.time() * 1000) % 1_000_000_000 + 10_000
    await twice(segments.CreateUser, segments_pb2.CreateUserRequest(user_id=user_id))
    slug = unique("COVER").replace("-", "_")
    await twice(segments.CreateSegment, segments_pb2.CreateSegmentRequest(slug=slug))
    await twice(segments.UpdateUserSegments, segments_pb2.UpdateUserSegmentsRequest(
        user_id=user_id, add=[segments_pb2.SegmentToAdd(slug=slug)]))
    await twice(segments.DeleteSegment, segments_pb2.DeleteSegmentRequest(slug=slug))
    name = unique("cover").replace("-", "_")
    await twice(users.CreateUser, shop_pb2.CreateUserRequest(username=name,
                                                             email=f"{name}@example.com"))
    product = await twice(products.CreateProduct, shop_pb2.CreateProductRequest(
        name="cover", price="2.00", stock_quantity=5,
        category_id=admin_db.execute("select category_id from shop.products where id = %s",
                                     (shop["product"],)).fetchone()[0]))
    await twice(products.UpdateProduct,
                shop_pb2.UpdateProductRequest(product_id=product.id, price="3.00"))
    placed = await twice(orders.CreateOrder, shop_pb2.CreateOrderRequest(
        user_id=shop["user"], delivery_address_id=shop["address"],
        items=[shop_pb2.CreateOrderRequest.Item(product_id=shop["product"], quantity=1)]))
    await twice(orders.UpdateOrderStatus, shop_pb2.UpdateOrderStatusRequest(
        order_id=placed.id, status=shop_pb2.ORDER_STATUS_PAID))
    user = await twice(users.CreateUser, shop_pb2.CreateUserRequest(
        username=f"{name}_2", email=f"{name}_2@example.com"))
    await twice(users.UpdateUser,
                shop_pb2.UpdateUserRequest(user_id=user.id, description="keyed"))
    await twice(users.AddAddress, shop_pb2.AddAddressRequest(
        user_id=user.id, street="Main 2", city="City", zip_code="222", country="DE"))
    await twice(users.DeleteUser, shop_pb2.DeleteUserRequest(user_id=user.id))
    await twice(products.CreateCategory, shop_pb2.CreateCategoryRequest(name=name))
    await twice(products.DeleteProduct, shop_pb2.DeleteProductRequest(product_id=product.id))
    assert clicks_of(admin_db, banner.id) == 4
    assert stock_of(admin_db, shop["product"]) == 9
    assert admin_db.execute("select count(*) from shop.users where id = %s",
                            (user.id,)).fetchone()[0] == 0
    assert admin_db.execute("select count(*) from shop.products where id = %s",
                            (product.id,)).fetchone()[0] == 0


async def test_a_replayed_update_does_not_put_its_old_answer_in_the_cache(channel, admin_db):
    shop = setup_shop(admin_db, stock=5)
    products = shop_pb2_grpc.ProductServiceStub(channel)
    key = unique("price")
    first = await products.UpdateProduct(
        shop_pb2.UpdateProductRequest(product_id=shop["product"], price="3.00"),
        metadata=keyed(key))
    await products.UpdateProduct(shop_pb2.UpdateProductRequest(product_id=shop["product"],
                                                               price="4.00"))
    replay = await products.UpdateProduct(
        shop_pb2.UpdateProductRequest(product_id=shop["product"], price="3.00"),
        metadata=keyed(key))
    assert replay == first and replay.price == "3.00"
    now = await products.GetProduct(shop_pb2.GetProductRequest(product_id=shop["product"]))
    assert now.price == "4.00", "the replay's old product must not be served from the cache"
