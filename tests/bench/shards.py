"""The sharded mode's cost and gain, under pgbench as tally_app: clicks.record_click and
booking.reserve_seat (the SQL behind RecordClick and ReserveSeat) called

  direct     on a partition database itself (what one database does),
  proxy 1    through a PL/Proxy proxy with one partition (the proxy's cost alone),
  proxy 2    through a proxy with two partitions (the gain of a second partition),

each closed-loop with --clients clients, and with one client (latency: the proxy's cost
per call is the difference). 100 banners and 100 events with 10^8 seats are spread evenly
over the partitions; every reservation is a new user. All databases share this machine,
so two partitions here share its cores: the ratio says what the proxy and the split cost;
what a second machine adds is reasoned from it (README, Sharded mode).

    python -m tests.bench shards [--clients 8] [--duration 5]

Each proxy client holds a connection to each partition it calls, so --clients 8 takes up
to 8 x 3 connections: the default stays small for a server whose max_connections is
shared. A run that fails (no connection slot left, say) is reported and skipped.
"""

from __future__ import annotations

import argparse
import os
import re

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from server.core.config import with_database
from server.ops import shards
from tests.bench.common import BENCH_DATABASE_URL, Result, machine, run_pgbench

CLICK = """\\set b random(1, 100)
select clicks.record_click(:b);
"""
RESERVE = """\\set e random(1, 100)
select * from booking.reserve_seat(:e, gen_random_uuid()::text);
"""


def cluster(count: int) -> str:
    """A fresh proxy with `count` partitions; banners and events 1..100 on their owners."""
    base = conninfo_to_dict(BENCH_DATABASE_URL)["dbname"]
    url = with_database(BENCH_DATABASE_URL, f"{base}_shards{count}")
    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        for (old,) in conn.execute(
                "select datname from pg_database where datname = %s or datname ~ %s",
                (name, "^" + re.escape(name) + r"_p[0-9]+$")).fetchall():
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(old)))
    shards.migrate_sharded(url, count)
    for index, part in enumerate(shards.partition_urls(url, count)):
        with psycopg.connect(part, autocommit=True) as conn:
            per = 100 // count
            conn.execute("select clicks.create_banner('bench ' || i)"
                         "  from generate_series(1, %s) i", (per,))
            conn.execute("select booking.create_event('bench ' || i, 100000000)"
                         "  from generate_series(1, %s) i", (per,))
            assert conn.execute("select max(id) from clicks.banners").fetchone()[0] <= 100, index
    return url


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench shards")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=int, default=5)
    args, _ = parser.parse_known_args(argv)

    one, two = cluster(1), cluster(2)
    setups = [("direct", shards.partition_url(one, 0)), ("proxy 1", one), ("proxy 2", two)]
    load = os.getloadavg()[0]
    print(f"setup: {machine()}, load average {load:.1f} at the start; pgbench -M prepared"
          f" as tally_app, {args.duration} s per run; closed loop at {args.clients} clients"
          f" and at 1; 100 banners, 100 events (10^8 seats) spread evenly; every"
          f" reservation a new user; proxy and partitions on this one server", flush=True)
    results: dict[tuple[str, str, int], Result] = {}
    for label, url in setups:
        for what, script in (("record_click", CLICK), ("reserve_seat", RESERVE)):
            for clients in (args.clients, 1):
                name = f"{what} {label} c={clients}"
                try:
                    result = run_pgbench(name, script, url, clients=clients,
                                         seconds=args.duration)
                except RuntimeError as exc:
                    print(f"{name}: failed, skipped: {str(exc).splitlines()[-1][:200]}",
                          flush=True)
                    continue
                results[(what, label, clients)] = result
                print(result.line(), flush=True)
    print("\nratios (calls/s) and the proxy's cost per call (one client's mean latency,"
          " proxy minus direct):")
    for what in ("record_click", "reserve_seat"):
        if not all((what, label, c) in results
                   for label in ("direct", "proxy 1", "proxy 2") for c in (args.clients, 1)):
            print(f"  {what}: a run failed, no ratios")
            continue
        direct = results[(what, "direct", args.clients)].rate
        p1 = results[(what, "proxy 1", args.clients)].rate
        p2 = results[(what, "proxy 2", args.clients)].rate
        lat = {label: 1000.0 / max(results[(what, label, 1)].rate, 1e-9)
               for label in ("direct", "proxy 1", "proxy 2")}
        cpu_us = (1 / max(p1, 1e-9) - 1 / max(direct, 1e-9)) * (os.cpu_count() or 1) * 1e6
        print(f"  {what}: two partitions / one = {p2 / max(p1, 1e-9):.2f}x;"
              f" proxy 1 / direct = {p1 / max(direct, 1e-9):.2f}x;"
              f" latency at c=1 {lat['direct']:.3f} / {lat['proxy 1']:.3f} /"
              f" {lat['proxy 2']:.3f} ms (direct / proxy 1 / proxy 2): +"
              f"{lat['proxy 1'] - lat['direct']:.3f} ms per call through the proxy;"
              f" machine time per call at saturation +{cpu_us:.0f} µs-core", flush=True)
    errors = sum(r.errors for r in results.values())
    print(f"failed transactions in all runs: {errors}")
