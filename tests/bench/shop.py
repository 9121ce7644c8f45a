"""The shop's sales statistics and CreateOrder throughput, in one run.

(a) 32 pgbench clients, each transaction one order with one line, every line in the same
    category and day (the hot statistics key), three ways: with tally's statistics trigger
    (statement-level, appending to the journal), with statistics off (trigger disabled),
    with the original's row-level ON CONFLICT trigger (one row per key);
(b) one INSERT of 1,000,000 order lines (10 categories x 30 days), the same three ways;
Lines in (a) and (b) are written as shop.create_order writes them (category and day
copied onto the line), straight into the table, so only the statistics differ.
Targets: (a) >= 0.8x the throughput without statistics; (b) <= 1.5x the time
without statistics. CreateOrder over gRPC is in `rpcs`.

    python -m tests.bench shop [--clients 32] [--rows 1000000]
                               [--original-timeout 300] [--parts ab]
                               [--rounds 8] [--round-seconds 5]

The database is BENCH_DATABASE_URL or <TEST_DATABASE_URL's name>_bench (recreated).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import psycopg

from tests.bench.common import (
    fresh_database,
    machine,
    run_pgbench,
)

HOT_DAY = "2026-01-01"
OFF, TALLY, ORIGINAL = "statistics off", "tally: statement trigger, journal", \
    "original: row-level ON CONFLICT"

ORIGINAL_TRIGGER = """
create table if not exists public.original_statistics (
    category_id bigint not null, report_date date not null,
    items_sold bigint not null, orders_count bigint not null,
    unique (category_id, report_date));
create or replace function public.original_statistics_row() returns trigger
language plpgsql as $fn$
begin
    insert into public.original_statistics values (new.category_id, new.order_day, new.quantity, 1)
    on conflict (category_id, report_date) do update
       set items_sold = original_statistics.items_sold + excluded.items_sold,
           orders_count = original_statistics.orders_count + 1;
    return null;
end $fn$;
"""

PGBENCH_SCRIPT = f"""\\set p random(1, 1000)
\\set u random(1, 100)
begin;
insert into shop.orders (user_id, delivery_address_id, total_price)
    values (:u, :u, 1.00) returning id \\gset
insert into shop.order_items (order_id, product_id, quantity, price_at_order, category_id,
                              order_day)
    values (:id, :p, 1, 1.00, 1, '{HOT_DAY}');
commit;
"""

def set_mode(conn: psycopg.Connection, mode: str) -> None:
    conn.execute("alter table shop.order_items "
                 + ("enable" if mode == TALLY else "disable") + " trigger order_items_statistics")
    conn.execute("drop trigger if exists original_statistics on shop.order_items")
    if mode == ORIGINAL:
        conn.execute("create trigger original_statistics after insert on shop.order_items"
                     " for each row execute function public.original_statistics_row()")


def reset(conn: psycopg.Connection, *, keep_orders: bool = False) -> None:
    conn.execute("truncate shop.order_items, shop.statistics_journal, shop.statistics_totals,"
                 " public.original_statistics")
    if not keep_orders:
        conn.execute("truncate shop.orders, shop.reports restart identity cascade")
    else:
        conn.execute("vacuum analyze shop.orders")
    # Emptied tables are left unanalyzed on purpose: TRUNCATE marks their size unknown,
    # and the planner then assumes a few pages. Analyzed while empty, they would be known
    # to be empty, and each connection would plan its foreign-key checks against
    # shop.orders as sequential scans at its first order - and keep that plan while the
    # table grows by thousands of orders a second.
    conn.execute("checkpoint")


def setup(url: str, products: int = 1000) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(ORIGINAL_TRIGGER)
        conn.execute("insert into shop.categories (name)"
                     " select 'category ' || n from generate_series(1, 10) n")
        conn.execute("insert into shop.users (username, email) select 'user' || n,"
                     " 'user' || n || '@example.com' from generate_series(1, 100) n")
        conn.execute("insert into shop.addresses (user_id, street, city, state, zip_code,"
                     " country, is_primary) select n, 'Main ' || n, 'Berlin', '', '10115',"
                     " 'DE', true from generate_series(1, 100) n")
        conn.execute("insert into shop.products (name, price, stock_quantity, category_id)"
                     " select 'product ' || n, 1.00 + n %% 50, 1000000000, 1"
                     " from generate_series(1, %s) n", (products,))
        conn.execute("analyze shop.categories, shop.users, shop.addresses, shop.products")


def statistics_agree(conn: psycopg.Connection, mode: str) -> bool:
    table = "shop.statistics" if mode == TALLY else "public.original_statistics"
    got = conn.execute(f"select coalesce(sum(items_sold), 0), coalesce(sum(orders_count), 0)"
                       f" from {table}").fetchone()
    want = conn.execute("select coalesce(sum(quantity), 0), count(distinct order_id)"
                        " from shop.order_items").fetchone()
    return tuple(got) == tuple(want)


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench shop")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--parts", default="ab", help="which of (a), (b) to run")
    parser.add_argument("--rounds", type=int, default=8,
                        help="(a): interleaved rounds (the ratio is noisy round to round)")
    parser.add_argument("--round-seconds", type=int, default=5,
                        help="(a): seconds per way and round")
    parser.add_argument("--original-timeout", type=int, default=300,
                        help="seconds after which the original's bulk insert is cancelled")
    args, _ = parser.parse_known_args(argv)

    url = fresh_database()
    setup(url)
    print(f"setup: {machine()}; load average {os.getloadavg()[0]:.1f} when starting "
          f"(shared machine: figures are noisy)")

    if "a" in args.parts:
        part_a(url, args)
    if "b" in args.parts:
        part_b(url, args)


def part_a(url: str, args: argparse.Namespace) -> None:
    seconds = max(1, args.round_seconds)
    print(f"\n(a) {args.clients} concurrent single-order transactions, one category and day,"
          f" {args.rounds} rounds of {seconds} s per way, the ways interleaved (the machine is"
          f" shared: interleaving spreads its load changes over all three; pgbench -M prepared,"
          f" as the owner)")
    rates: dict[str, list[float]] = {OFF: [], TALLY: [], ORIGINAL: []}
    with psycopg.connect(url, autocommit=True) as conn:
        for n in range(args.rounds):
            order = [OFF, TALLY, ORIGINAL] if n % 2 == 0 else [ORIGINAL, TALLY, OFF]
            for mode in order:
                set_mode(conn, mode)
                reset(conn)
                result = run_pgbench(mode, PGBENCH_SCRIPT, url, clients=args.clients,
                                     seconds=seconds, user="postgres")
                rates[mode].append(result.rate)
                agree = "" if mode == OFF else (
                    "  statistics exact" if statistics_agree(conn, mode)
                    else "  STATISTICS WRONG")
                print(f"  round {n + 1}: " + result.line() + agree, flush=True)
            print(f"  round {n + 1}: with statistics / without "
                  f"{rates[TALLY][-1] / rates[OFF][-1]:.2f}x", flush=True)
    median = {mode: statistics.median(r) for mode, r in rates.items()}
    ratio = median[TALLY] / median[OFF] if median[OFF] else 0
    paired = statistics.median(t / o for t, o in zip(rates[TALLY], rates[OFF], strict=True))
    print(f"  -> medians: off {median[OFF]:.0f}/s, tally {median[TALLY]:.0f}/s, original "
          f"{median[ORIGINAL]:.0f}/s; with statistics / without: {ratio:.2f}x (median of the"
          f" rounds' own ratios: {paired:.2f}x; target >= 0.8x: "
          f"{'meets' if min(ratio, paired) >= 0.8 else 'MISSES'}); original: "
          f"{median[ORIGINAL] / median[OFF]:.2f}x")


def part_b(url: str, args: argparse.Namespace) -> None:
    print(f"\n(b) one INSERT of {args.rows:,} order lines (10 categories x 30 days)")
    times: dict[str, float | None] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        set_mode(conn, OFF)
        reset(conn)
        conn.execute("insert into shop.orders (user_id, delivery_address_id, total_price)"
                     " select 1 + n %% 100, 1 + n %% 100, 1.00 from generate_series(1, %s) n",
                     (args.rows,))
        for mode in (OFF, TALLY, ORIGINAL):
            set_mode(conn, mode)
            reset(conn, keep_orders=True)
            timeout = args.original_timeout if mode == ORIGINAL else 0
            conn.execute(f"set statement_timeout = '{timeout}s'")
            started = time.perf_counter()
            try:
                conn.execute(
                    "insert into shop.order_items (order_id, product_id, quantity,"
                    " price_at_order, category_id, order_day)"
                    " select o.id, 1 + o.id % 1000, 1 + o.id % 3, 1.00, 1 + o.id % 10,"
                    f" date '{HOT_DAY}' + (o.id % 30)::int from shop.orders o")
                times[mode] = time.perf_counter() - started
                agree = "" if mode == OFF else (
                    "  statistics exact" if statistics_agree(conn, mode)
                    else "  STATISTICS WRONG")
                print(f"{mode:<34} {times[mode]:9.2f} s{agree}", flush=True)
            except psycopg.errors.QueryCanceled:
                times[mode] = None
                print(f"{mode:<34} > {timeout} s (cancelled by statement_timeout)", flush=True)
            conn.execute("set statement_timeout = 0")
    off, tally = times[OFF], times[TALLY]
    if off and tally:
        original = (f"{times[ORIGINAL] / off:.2f}x" if times[ORIGINAL]
                    else f"> {args.original_timeout / off:.1f}x")
        print(f"  -> time with statistics / without: {tally / off:.2f}x (target <= 1.5x: "
              f"{'meets' if tally / off <= 1.5 else 'MISSES'}); original: {original}")
