"""Migration 0008 on a database whose statistics were kept in stripes (as the trigger did
before it): the same statistics, folded into totals, and later orders journaled."""

from __future__ import annotations

import psycopg
import pytest

from server.ops import migrate
from tests.support import legacy_database, scratch_database_url

LEGACY = "0008.shop_statistics_journal"

# (category, day, stripe, items sold, orders): two keys, the first over three stripes.
STRIPES = [(1, "2030-05-01", 3, 10, 4), (1, "2030-05-01", 77, 5, 2), (1, "2030-05-01", 200, 1, 1),
           (2, "2030-05-02", 3, 7, 3)]


@pytest.fixture(scope="module")
def legacy_url() -> str:
    url = legacy_database(scratch_database_url("shop_legacy"), LEGACY)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("insert into shop.categories (name) values ('one'), ('two')")
        for row in STRIPES:
            conn.execute("insert into shop.statistics_shards (category_id, report_date, shard,"
                         " items_sold, orders_count) values (%s, %s, %s, %s, %s)", row)
    migrate.migrate(url)
    return url


def test_stripes_become_one_total_per_key(legacy_url):
    with psycopg.connect(legacy_url, autocommit=True) as conn:
        totals = conn.execute(
            "select category_id, report_date::text, items_sold, orders_count"
            " from shop.statistics_totals order by 1").fetchall()
        assert totals == [(1, "2030-05-01", 16, 7), (2, "2030-05-02", 7, 3)]
        assert conn.execute("select count(*) from shop.statistics_journal").fetchone()[0] == 0
        assert conn.execute(
            "select category_id, report_date::text, items_sold, orders_count"
            " from shop.statistics order by 1").fetchall() == totals
        assert conn.execute("select to_regclass('shop.statistics_shards')").fetchone()[0] is None


def test_later_orders_are_journaled_and_folded(legacy_url):
    with psycopg.connect(legacy_url, autocommit=True) as conn:
        conn.execute("insert into shop.users (username, email) values ('mig', 'mig@example.com')")
        conn.execute("insert into shop.addresses (user_id, street, city, state, zip_code,"
                     " country, is_primary) values (1, 'Main 1', 'City', '', '111', 'DE', true)")
        conn.execute("insert into shop.products (name, price, stock_quantity, category_id)"
                     " values ('p', 2.00, 10, 1)")
        conn.execute("select shop.create_order(1, 1, array[1]::bigint[], array[3])")
        day = conn.execute("select order_day::text from shop.order_items").fetchone()[0]
        assert conn.execute(
            "select category_id, report_date::text, items_sold, orders_count"
            " from shop.statistics_journal").fetchall() == [(1, day, 3, 1)]
        assert conn.execute("select shop.fold_statistics()").fetchone()[0] == 1
        assert conn.execute(
            "select items_sold, orders_count from shop.statistics"
            " where category_id = 1 and report_date = %s", (day,)).fetchone() == (3, 1)
