"""Concurrency: stock never oversold, statistics exact under many concurrent orders."""

from __future__ import annotations

import asyncio
import random

import asyncpg
import grpc
from tally.shop.v1 import shop_pb2 as pb

from server.config import APP_ROLE, with_user
from tests.shop.helpers import item, new_category, new_product, new_user
from tests.support import reason_of


async def test_100_concurrent_orders_for_10_in_stock(s, admin_db):
    product = await new_product(s, (await new_category(s)).id, stock=10)
    buyers = [await new_user(s) for _ in range(4)]

    async def buy(n: int) -> str:
        user, address = buyers[n % len(buyers)]
        try:
            await s.orders.CreateOrder(pb.CreateOrderRequest(
                user_id=user.id, delivery_address_id=address.id, items=[item(product.id, 1)]))
            return "OK"
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.FAILED_PRECONDITION
            return reason_of(exc)

    outcomes = await asyncio.gather(*(buy(n) for n in range(100)))
    assert outcomes.count("OK") == 10
    assert outcomes.count("INSUFFICIENT_STOCK") == 90
    assert admin_db.execute("select stock_quantity from shop.products where id = %s",
                            (product.id,)).fetchone()[0] == 0
    assert admin_db.execute("select coalesce(sum(quantity), 0) from shop.order_items"
                            " where product_id = %s", (product.id,)).fetchone()[0] == 10


async def test_10000_random_orders_keep_statistics_exact(s, database_url):
    categories = [(await new_category(s)).id for _ in range(4)]
    products = [(await new_product(s, categories[n % 4], stock=1_000_000)).id for n in range(12)]
    buyers = [await new_user(s) for _ in range(8)]
    rng = random.Random(5)
    plans = []
    for n in range(10_000):
        user, address = buyers[n % len(buyers)]
        lines = rng.sample(products, rng.randint(1, 3))
        plans.append((user.id, address.id, lines, [rng.randint(1, 5) for _ in lines]))

    url = with_user(database_url, APP_ROLE)
    workers = 16

    async def worker(k: int) -> int:
        conn = await asyncpg.connect(url)
        try:
            for plan in plans[k::workers]:
                await conn.fetchval("select id from shop.create_order($1, $2, $3, $4)", *plan)
            return len(plans[k::workers])
        finally:
            await conn.close()

    assert sum(await asyncio.gather(*(worker(k) for k in range(workers)))) == 10_000
    conn = await asyncpg.connect(database_url)
    try:
        stats = await conn.fetch(
            "select category_id, report_date, items_sold, orders_count from shop.statistics"
            " where category_id = any($1) order by 1, 2", categories)
        recomputed = await conn.fetch(
            "select category_id, order_day, sum(quantity)::bigint, count(distinct order_id)"
            "  from shop.order_items where category_id = any($1) group by 1, 2 order by 1, 2",
            categories)
        expected_items = sum(sum(q) for *_, q in plans)
    finally:
        await conn.close()
    assert [tuple(r) for r in stats] == [tuple(r) for r in recomputed]
    assert sum(r["items_sold"] for r in stats) == expected_items
