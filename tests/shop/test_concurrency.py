"""Concurrency: stock never oversold, statistics exact under many concurrent orders."""

from __future__ import annotations

import asyncio
import json
import random

import asyncpg
import grpc
from tally.shop.v1 import shop_pb2 as pb

from server.core.config import APP_ROLE, JOBS_ROLE, with_user
from tests.shop.helpers import item, new_category, new_product, new_user
from tests.support import reason_of


async def statistics_and_recomputation(conn: asyncpg.Connection, categories: list[int]):
    """The categories' statistics, and the same recomputed by GROUP BY over the lines."""
    stats = await conn.fetch(
        "select category_id, report_date, items_sold, orders_count from shop.statistics"
        " where category_id = any($1) order by 1, 2", categories)
    recomputed = await conn.fetch(
        "select category_id, order_day, sum(quantity)::bigint, count(distinct order_id)"
        "  from shop.order_items where category_id = any($1) group by 1, 2 order by 1, 2",
        categories)
    return stats, recomputed


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


async def fold_until(done: asyncio.Event, url: str) -> int:
    """Fold the statistics journal over and over (as the job does, but without pause)
    until `done`; returns how many journal rows were folded."""
    conn = await asyncpg.connect(url)
    try:
        folded = 0
        while not done.is_set():
            folded += await conn.fetchval("select shop.fold_statistics()")
            await asyncio.sleep(0.01)
        return folded
    finally:
        await conn.close()


async def test_10000_random_orders_keep_statistics_exact(s, database_url):
    """16 connections place 10,000 random orders while two others keep folding the
    journal into the totals: the statistics equal a GROUP BY over the lines, exactly."""
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

    done = asyncio.Event()
    folders = [asyncio.ensure_future(fold_until(done, with_user(database_url, JOBS_ROLE)))
               for _ in range(2)]
    try:
        assert sum(await asyncio.gather(*(worker(k) for k in range(workers)))) == 10_000
    finally:
        done.set()
        folded = sum(await asyncio.gather(*folders))
    assert folded > 0, "the folds ran while the orders were placed"
    conn = await asyncpg.connect(database_url)
    try:
        stats, recomputed = await statistics_and_recomputation(conn, categories)
        expected_items = sum(sum(q) for *_, q in plans)
    finally:
        await conn.close()
    assert [tuple(r) for r in stats] == [tuple(r) for r in recomputed]
    assert sum(r["items_sold"] for r in stats) == expected_items


async def test_concurrent_batches_keep_stock_and_statistics_exact(s, database_url):
    """create_orders from 16 connections at once: batches that fit are placed all at once,
    batches that touch a product running out go order by order; either way stock is
    exact and never negative, and statistics equal a recomputation over the lines."""
    categories = [(await new_category(s)).id for _ in range(3)]
    ample = [(await new_product(s, categories[n % 3], stock=1_000_000)).id for n in range(6)]
    scarce = [(await new_product(s, categories[n % 3], stock=40)).id for n in range(2)]
    products = ample + scarce
    buyers = [await new_user(s) for _ in range(6)]
    rng = random.Random(11)
    batches = []
    for _ in range(16 * 4):
        users, addresses, line_orders, product_ids, quantities = [], [], [], [], []
        for n in range(1, 33):
            user, address = rng.choice(buyers)
            users.append(user.id)
            addresses.append(address.id)
            for product in rng.sample(ample, rng.randint(1, 3)) + (
                    [rng.choice(scarce)] if rng.random() < 0.03 else []):
                line_orders.append(n)
                product_ids.append(product)
                quantities.append(rng.randint(1, 4))
        batches.append((users, addresses, line_orders, product_ids, quantities))

    url = with_user(database_url, APP_ROLE)
    workers = 16

    async def worker(k: int) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(url)
        try:
            rows = []
            for batch in batches[k::workers]:
                got = await conn.fetch("select * from shop.create_orders($1, $2, $3, $4, $5)",
                                       *batch)
                assert [r["ord"] for r in got] == list(range(1, 33))
                for r in got:
                    if r["error_sqlstate"] is None:  # exactly the lines asked for, merged
                        asked: dict[int, int] = {}
                        for o, product, q in zip(*batch[2:], strict=True):
                            if o == r["ord"]:
                                asked[product] = asked.get(product, 0) + q
                        assert {i["product_id"]: i["quantity"]
                                for i in json.loads(r["items"])} == asked
                rows += got
            return rows
        finally:
            await conn.close()

    outcomes = [r for rows in await asyncio.gather(*(worker(k) for k in range(workers)))
                for r in rows]
    placed = [r for r in outcomes if r["error_sqlstate"] is None]
    assert len(outcomes) == 32 * len(batches)
    assert {r["error_reason"] for r in outcomes if r["error_sqlstate"]} <= {"INSUFFICIENT_STOCK"}
    assert 0 < len(placed) < len(outcomes), "some orders placed and some short"

    conn = await asyncpg.connect(database_url)
    try:
        sold = dict(await conn.fetch(
            "select product_id, sum(quantity) from shop.order_items where product_id = any($1)"
            " group by 1", products))
        stock = dict(await conn.fetch(
            "select id, stock_quantity from shop.products where id = any($1)", products))
        lines = await conn.fetchval(
            "select count(*) from shop.order_items where order_id = any($1)",
            [r["id"] for r in placed])
        stats, recomputed = await statistics_and_recomputation(conn, categories)
    finally:
        await conn.close()
    for product in ample:
        assert stock[product] + sold[product] == 1_000_000
    for product in scarce:
        assert stock[product] + sold.get(product, 0) == 40
        assert 0 <= stock[product] < 4  # ran out: an order of up to 4 was refused
    assert lines == sum(len(json.loads(r["items"])) for r in placed)
    assert sum(sold.values()) == sum(i["quantity"] for r in placed
                                     for i in json.loads(r["items"]))
    assert [tuple(r) for r in stats] == [tuple(r) for r in recomputed]
