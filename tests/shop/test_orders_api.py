"""OrderService end to end: orders, transitions, statistics, every error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from tally.shop.v1 import shop_pb2 as pb

from tests.shop.helpers import item, new_category, new_product, new_user
from tests.support import expect_error, status_details

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
FAILED = grpc.StatusCode.FAILED_PRECONDITION


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def month_ago() -> str:
    return (datetime.now(UTC).date() - timedelta(days=30)).isoformat()


async def stock(s, product_id: int) -> int:
    return (await s.products.GetProduct(pb.GetProductRequest(product_id=product_id))).stock_quantity


async def test_create_and_get_order(s):
    user, address = await new_user(s)
    category = await new_category(s)
    hammer = await new_product(s, category.id, stock=5, price="12.50")
    nail = await new_product(s, category.id, stock=100, price="0.10")
    order = await s.orders.CreateOrder(pb.CreateOrderRequest(
        user_id=user.id, delivery_address_id=address.id,
        items=[item(nail.id, 3), item(hammer.id, 2), item(nail.id, 4)]))
    assert order.status == pb.ORDER_STATUS_PENDING
    assert order.total_price == "25.70"
    assert [(i.product_id, i.quantity, i.price_at_order) for i in order.items] == [
        (hammer.id, 2, "12.50"), (nail.id, 7, "0.10")]
    assert (order.user_id, order.delivery_address_id) == (user.id, address.id)
    assert await stock(s, hammer.id) == 3 and await stock(s, nail.id) == 93
    assert await s.orders.GetOrder(pb.GetOrderRequest(order_id=order.id)) == order


async def test_insufficient_stock_lists_every_shortfall(s, admin_db):
    user, address = await new_user(s)
    category = await new_category(s)
    a = await new_product(s, category.id, stock=2)
    b = await new_product(s, category.id, stock=1)
    c = await new_product(s, category.id, stock=50)
    before = admin_db.execute("select count(*) from shop.orders").fetchone()[0]
    err = await expect_error(s.orders.CreateOrder(pb.CreateOrderRequest(
        user_id=user.id, delivery_address_id=address.id,
        items=[item(c.id, 5), item(b.id, 4), item(a.id, 3)])), FAILED, "INSUFFICIENT_STOCK")
    violations = status_details(err)["PreconditionFailure"].violations
    assert [(v.type, v.subject, v.description) for v in violations] == [
        ("INSUFFICIENT_STOCK", f"product:{a.id}",
         f"Insufficient stock for product {a.id}. Available: 2, Requested: 3"),
        ("INSUFFICIENT_STOCK", f"product:{b.id}",
         f"Insufficient stock for product {b.id}. Available: 1, Requested: 4"),
    ]
    # never a partial order
    assert [await stock(s, p.id) for p in (a, b, c)] == [2, 1, 50]
    assert admin_db.execute("select count(*) from shop.orders").fetchone()[0] == before


async def test_create_order_errors(s):
    user, address = await new_user(s)
    _, other_address = await new_user(s)
    product = await new_product(s, (await new_category(s)).id)

    def order(**kw):
        fields = {"user_id": user.id, "delivery_address_id": address.id,
                  "items": [item(product.id, 1)], **kw}
        return s.orders.CreateOrder(pb.CreateOrderRequest(**fields))

    await expect_error(order(delivery_address_id=other_address.id), NOT_FOUND, "ADDRESS_NOT_FOUND")
    await expect_error(order(delivery_address_id=2**62), NOT_FOUND, "ADDRESS_NOT_FOUND")
    await expect_error(order(user_id=2**62), NOT_FOUND, "USER_NOT_FOUND")
    await expect_error(order(items=[item(2**62, 1)]), NOT_FOUND, "PRODUCT_NOT_FOUND")
    await expect_error(order(items=[]), INVALID, "ITEMS_EMPTY")
    await expect_error(order(items=[item(product.id, 1)] * 101), INVALID, "TOO_MANY_ITEMS")
    await expect_error(order(items=[item(product.id, 0)]), INVALID, "QUANTITY_INVALID")
    await expect_error(order(items=[item(product.id, -3)]), INVALID, "QUANTITY_INVALID")
    await expect_error(order(items=[item(0, 1)]), INVALID, "PRODUCT_ID_INVALID")
    await expect_error(order(user_id=0), INVALID, "USER_ID_INVALID")
    await expect_error(order(delivery_address_id=0), INVALID, "ADDRESS_ID_INVALID")
    await expect_error(s.orders.GetOrder(pb.GetOrderRequest(order_id=2**62)), NOT_FOUND,
                       "ORDER_NOT_FOUND")
    await expect_error(s.orders.GetOrder(pb.GetOrderRequest(order_id=0)), INVALID,
                       "ORDER_ID_INVALID")


async def test_list_orders(s):
    user, address = await new_user(s)
    product = await new_product(s, (await new_category(s)).id, stock=100)
    made = [await s.orders.CreateOrder(pb.CreateOrderRequest(
        user_id=user.id, delivery_address_id=address.id, items=[item(product.id, n)]))
        for n in (1, 2, 3)]
    await s.orders.UpdateOrderStatus(pb.UpdateOrderStatusRequest(
        order_id=made[0].id, status=pb.ORDER_STATUS_PAID))
    mine = await s.orders.ListOrders(pb.ListOrdersRequest(user_id=user.id))
    assert [o.id for o in mine.orders] == [o.id for o in reversed(made)] and mine.total == 3
    paid = await s.orders.ListOrders(pb.ListOrdersRequest(user_id=user.id,
                                                          status=pb.ORDER_STATUS_PAID))
    assert [o.id for o in paid.orders] == [made[0].id] and paid.total == 1
    paged = await s.orders.ListOrders(pb.ListOrdersRequest(user_id=user.id, count=1, page=2))
    assert [o.id for o in paged.orders] == [made[1].id] and paged.total == 3
    everyone = await s.orders.ListOrders(pb.ListOrdersRequest(count=100))
    assert everyone.total >= 3
    await expect_error(s.orders.ListOrders(pb.ListOrdersRequest(count=101)), INVALID,
                       "COUNT_INVALID")
    await expect_error(s.orders.ListOrders(pb.ListOrdersRequest(page=-1)), INVALID,
                       "PAGE_INVALID")
    await expect_error(s.orders.ListOrders(pb.ListOrdersRequest(status=99)), INVALID,
                       "STATUS_INVALID")


async def test_status_transitions(s):
    user, address = await new_user(s)
    product = await new_product(s, (await new_category(s)).id, stock=10)
    order = await s.orders.CreateOrder(pb.CreateOrderRequest(
        user_id=user.id, delivery_address_id=address.id, items=[item(product.id, 1)]))

    async def move(status):
        return await s.orders.UpdateOrderStatus(pb.UpdateOrderStatusRequest(
            order_id=order.id, status=status))

    await expect_error(move(pb.ORDER_STATUS_SHIPPED), FAILED, "BAD_TRANSITION")
    await expect_error(move(pb.ORDER_STATUS_PENDING), FAILED, "BAD_TRANSITION")
    for status in (pb.ORDER_STATUS_PAID, pb.ORDER_STATUS_SHIPPED, pb.ORDER_STATUS_DELIVERED):
        assert (await move(status)).status == status
    await expect_error(move(pb.ORDER_STATUS_CANCELLED), FAILED, "BAD_TRANSITION")
    await expect_error(move(pb.ORDER_STATUS_UNSPECIFIED), INVALID, "STATUS_INVALID")
    await expect_error(s.orders.UpdateOrderStatus(pb.UpdateOrderStatusRequest(
        order_id=2**62, status=pb.ORDER_STATUS_PAID)), NOT_FOUND, "ORDER_NOT_FOUND")
    await expect_error(s.orders.UpdateOrderStatus(pb.UpdateOrderStatusRequest(
        order_id=0, status=pb.ORDER_STATUS_PAID)), INVALID, "ORDER_ID_INVALID")


@pytest.mark.parametrize("via_paid", [False, True])
async def test_cancel_returns_stock_and_keeps_statistics(s, via_paid):
    user, address = await new_user(s)
    category = await new_category(s)
    product = await new_product(s, category.id, stock=10)
    order = await s.orders.CreateOrder(pb.CreateOrderRequest(
        user_id=user.id, delivery_address_id=address.id, items=[item(product.id, 4)]))
    if via_paid:
        await s.orders.UpdateOrderStatus(pb.UpdateOrderStatusRequest(
            order_id=order.id, status=pb.ORDER_STATUS_PAID))
    query = pb.GetSalesStatisticsRequest(category_id=category.id, date_from=today(),
                                         date_to=today())
    before = (await s.orders.GetSalesStatistics(query)).statistics
    cancelled = await s.orders.UpdateOrderStatus(pb.UpdateOrderStatusRequest(
        order_id=order.id, status=pb.ORDER_STATUS_CANCELLED))
    assert cancelled.status == pb.ORDER_STATUS_CANCELLED
    assert await stock(s, product.id) == 10
    # Statistics count placed orders: a cancellation does not change them.
    after = (await s.orders.GetSalesStatistics(query)).statistics
    assert after == before
    assert [(x.items_sold, x.orders_count) for x in after] == [(4, 1)]
    await expect_error(s.orders.UpdateOrderStatus(pb.UpdateOrderStatusRequest(
        order_id=order.id, status=pb.ORDER_STATUS_CANCELLED)), FAILED, "BAD_TRANSITION")
    assert await stock(s, product.id) == 10


async def test_sales_statistics(s):
    user, address = await new_user(s)
    c1, c2 = await new_category(s), await new_category(s)
    p1, p2, p3 = (await new_product(s, c1.id, 100), await new_product(s, c1.id, 100),
                  await new_product(s, c2.id, 100))
    for items in ([item(p1.id, 2), item(p2.id, 3)], [item(p1.id, 1)], [item(p3.id, 5)]):
        await s.orders.CreateOrder(pb.CreateOrderRequest(
            user_id=user.id, delivery_address_id=address.id, items=items))
    got = await s.orders.GetSalesStatistics(pb.GetSalesStatisticsRequest(
        date_from=today(), date_to=today()))
    mine = {x.category_id: (x.report_date, x.items_sold, x.orders_count)
            for x in got.statistics if x.category_id in (c1.id, c2.id)}
    assert mine == {c1.id: (today(), 6, 2), c2.id: (today(), 5, 1)}
    one = await s.orders.GetSalesStatistics(pb.GetSalesStatisticsRequest(
        category_id=c2.id, date_from=month_ago(), date_to=today()))
    assert [(x.category_id, x.items_sold) for x in one.statistics] == [(c2.id, 5)]
    await expect_error(s.orders.GetSalesStatistics(pb.GetSalesStatisticsRequest(
        date_from="2025-08-02", date_to="2025-08-01")), INVALID, "DATE_RANGE_INVALID")
    await expect_error(s.orders.GetSalesStatistics(pb.GetSalesStatisticsRequest(
        date_from="yesterday", date_to="2025-08-01")), INVALID, "DATE_INVALID")
    await expect_error(s.orders.GetSalesStatistics(pb.GetSalesStatisticsRequest(
        date_from="2025-08-01")), INVALID, "DATE_INVALID")
    await expect_error(s.orders.GetSalesStatistics(pb.GetSalesStatisticsRequest(
        date_from="2024-01-01", date_to="2025-08-01")), INVALID, "DATE_RANGE_INVALID")
