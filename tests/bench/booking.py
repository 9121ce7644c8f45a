"""ReserveSeat over gRPC (k6) against the same SQL function called by pgbench.

(a) 1,000 events, each call picks one at random; (b) one hot event with enough seats.
Both with the same concurrency and duration; prints throughput, p50/p95/p99 and the ratio
gRPC/SQL. Targets: (a) >= 0.5x, (b) >= 1.0x, gRPC p99 < 50 ms.

    python -m tests.bench booking [--vus 64] [--duration 20] [--workers 2]
"""

from __future__ import annotations

import argparse

import psycopg

from tests.bench.common import fresh_database, machine, print_ceiling, run_k6, run_pgbench
from tests.support import ServerProcess

K6_SCRIPT = """
import grpc from 'k6/net/grpc';
import { check } from 'k6';

export const options = {
  scenarios: { reserve: { executor: 'constant-vus', vus: Number(__ENV.VUS),
                          duration: __ENV.DURATION + 's' } },
  summaryTrendStats: ['avg', 'p(50)', 'p(95)', 'p(99)', 'max'],
};

const client = new grpc.Client();
const first = Number(__ENV.FIRST), count = Number(__ENV.COUNT);

export default function () {
  if (__ITER === 0) client.connect(__ENV.ADDR, { plaintext: true, reflect: true });
  const event = first + Math.floor(Math.random() * count);
  const res = client.invoke('tally.booking.v1.BookingService/ReserveSeat', {
    event_id: event, user_id: `k6-${__ENV.TAG}-${__VU}-${__ITER}`,
  });
  check(res, { ok: (r) => r && r.status === grpc.StatusOK });
}
"""

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
    parser.add_argument("--vus", type=int, default=64)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    url = fresh_database()
    spread_first = make_events(url, 1000, 1_000_000)
    hot = make_events(url, 1, 100_000_000)
    print(f"setup: {machine()}; {args.vus} concurrent clients, {args.duration} s per run; "
          f"server --workers {args.workers}, rate limit off; (a) 1,000 events, "
          f"(b) one event with 10^8 seats; every call a new user (a booking is written)")
    server = ServerProcess(url, workers=args.workers).start()
    rows = []
    try:
        print_ceiling(server.addr, args.vus)
        for label, first, count in (("(a) 1,000 events", spread_first, 1000),
                                    ("(b) one hot event", hot, 1)):
            grpc_result = run_k6(f"{label} gRPC", K6_SCRIPT, {
                "ADDR": server.addr, "VUS": str(args.vus), "DURATION": str(args.duration),
                "FIRST": str(first), "COUNT": str(count), "TAG": label[1]})
            print(grpc_result.line(), flush=True)
            sql_result = run_pgbench(f"{label} pgbench", PGBENCH_SCRIPT, url,
                                     clients=args.vus, seconds=args.duration,
                                     defines={"first": str(first),
                                              "last": str(first + count - 1)})
            print(sql_result.line(), flush=True)
            rows.append((label, grpc_result, sql_result))
    finally:
        server.stop()
    print("\nratio gRPC/SQL (throughput):")
    targets = {"(a) 1,000 events": 0.5, "(b) one hot event": 1.0}
    for label, g, s in rows:
        ratio = g.rate / s.rate if s.rate else 0
        target = targets[label]
        verdict = "meets" if ratio >= target and g.p99_ms < 50 and g.errors == 0 else "MISSES"
        print(f"  {label}: {ratio:.2f}x (target >= {target}x, gRPC p99 {g.p99_ms:.1f} ms "
              f"< 50 ms) -> {verdict}")
    with psycopg.connect(url) as conn:
        over = conn.execute("select count(*) from booking.events"
                            " where booked_seats > total_seats").fetchone()[0]
    print(f"events overbooked after the run: {over}")
