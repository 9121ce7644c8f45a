"""booking.reserve_seat called straight by pgbench: the SQL's own rate, the reference for
ReserveSeat over gRPC (whose figures `rpcs` gives).

(a) 1,000 events, each call picks one at random; (b) one hot event with enough seats.
Every call is a new user, so every call writes a booking.

    python -m tests.bench booking [--clients 64] [--duration 20]
"""

from __future__ import annotations

import argparse

import psycopg

from tests.bench.common import fresh_database, machine, run_pgbench

PGBENCH_SCRIPT = """\\set e random(:first, :last)
select * from booking.reserve_seat(:e, gen_random_uuid()::text);
"""


def make_events(url: str, count: int, seats: int) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "select min(id) from (select (booking.create_event('bench ' || i, %s)).id"
            " from generate_series(1, %s) i) e", (seats, count)).fetchone()[0]


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench booking")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--duration", type=int, default=20)
    args, _ = parser.parse_known_args(argv)

    url = fresh_database()
    spread_first = make_events(url, 1000, 1_000_000)
    hot = make_events(url, 1, 100_000_000)
    print(f"setup: {machine()}; pgbench -M prepared, {args.clients} clients as tally_app,"
          f" {args.duration} s per run; (a) 1,000 events, (b) one event with 10^8 seats;"
          f" every call a new user", flush=True)
    for label, first, count in (("(a) 1,000 events", spread_first, 1000),
                                ("(b) one hot event", hot, 1)):
        result = run_pgbench(f"{label} reserve_seat", PGBENCH_SCRIPT, url,
                             clients=args.clients, seconds=args.duration,
                             defines={"first": str(first), "last": str(first + count - 1)})
        print(result.line(), flush=True)
    with psycopg.connect(url) as conn:
        over = conn.execute("select count(*) from booking.events"
                            " where booked_seats > total_seats").fetchone()[0]
    print(f"events overbooked after the runs: {over}")
