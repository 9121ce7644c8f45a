"""Every hot RPC in one run, each against the no-op health Check driven the same way.

For each RPC: closed-loop throughput at each --streams level (64: 16 connections x 4
streams; 200: 50 x 4), as a ratio to the no-op measured the same way in this run (at the
start and again at the end: the mean is the reference, the two show the machine's drift);
then an open loop at --rate calls/s for latency percentiles and the slowest call (each
call's time from the generator's log). Each run's server and PostgreSQL CPU is also
given per OK call. Every call is proved by the server's own counter
`tally_rpcs_total{method,code}`, scraped before and after each run; writes are also
checked against the rows they wrote. The no-op is not counted by the server (health is
not a tally method): its answers are proved by their bytes, 7 of DATA in every OK answer
and none in an error (trailers only).

    python -m tests.bench rpcs [--only RecordClick,GetEvent] [--seconds 10] [--workers 2]
                               [--streams 64,200] [--rate 2000] [--users 100000]
                               [--rounds 3] [--keys [--rounds 3]]
                               [--scale N [--keep]]

With --rounds N, every run (the no-op's and each RPC's) is made N times, round by round,
each RPC right after the no-op (see measure_rounds); the table gives per row the median
over the rounds, the ratio's range and the slowest call of all rounds.

With --scale N, every RPC runs on two data sets, 1x and N times as much (see scale_base:
from 1,000,000 users, 10x is 10 M segment users and history rows, 1,000 banners x 40
days of minutes, 100,000 products), each loaded by SQL into a database of its own and
served by a server of its own; the table gives each RPC's figures side by side with
the ratio N x / 1x.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import psycopg
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from tally.booking.v1 import booking_pb2
from tally.clicks.v1 import clicks_pb2
from tally.segments.v1 import segments_pb2
from tally.shop.v1 import shop_pb2

from tests.bench import drivers
from tests.bench.common import (
    backend_pids,
    check_disk,
    cpu_seconds,
    drop_database,
    fresh_database,
)
from tests.support import TEST_REDIS_URL, ServerProcess, metrics_text

NOOP = "Health.Check"
NOOP_PATH = "/grpc.health.v1.Health/Check"
NOOP_ANSWER_BYTES = 7  # 5-byte gRPC frame header + HealthCheckResponse{status: SERVING}
STREAMS_PER_CONNECTION = 4
OPEN_LOOP_CONNECTIONS = 16

# The targets this benchmark judges (README, Benchmarks).
READ_RATIO, WRITE_RATIO, P99_MS, RECORD_CLICK_RATE = 0.6, 0.45, 25.0, 5000.0

State = Callable[[psycopg.Connection], tuple[int, ...]]


@dataclass
class Spec:
    """One hot RPC: how it is called and, for a write, how its rows are counted."""

    rpc: str  # the server's method label, Service.Method
    path: str
    kind: str  # "read" or "write"
    body: bytes = b""  # the request, for h2load (the same on every call)
    varying: drivers.Varying | None = None  # set: driven by grpcload, each call different
    what: str = ""  # the request, in words
    state: State | None = None  # a write's rows, read before and after
    # (state before, state after, OK calls) -> (exact?, what was compared)
    exact: Callable[[tuple[int, ...], tuple[int, ...], int], tuple[bool, str]] | None = None
    label: str = ""  # how its rows are named, when not by `rpc` alone (--keys)

    @property
    def driver(self) -> str:
        return "grpcload" if self.varying else "h2load"


@dataclass
class Row:
    rpc: str
    load: str  # "64 streams", "open 2,000/s"
    run: drivers.Run
    ok: int
    not_ok: dict[str, int]
    server_cores: float
    postgres_cores: float
    ratio: float | None = None
    verdicts: list[str] = field(default_factory=list)
    server_cpu: float = 0.0  # CPU seconds the server used over the run
    postgres_cpu: float = 0.0  # CPU seconds its PostgreSQL connections used

    @property
    def server_us(self) -> float | None:
        return per_call_us(self.server_cpu, self.ok)

    @property
    def postgres_us(self) -> float | None:
        return per_call_us(self.postgres_cpu, self.ok)


def per_call_us(cpu_seconds: float, calls: int) -> float | None:
    """CPU microseconds per call: `cpu_seconds` over `calls` (None without calls)."""
    return cpu_seconds * 1e6 / calls if calls > 0 else None


def latency_ms(run: drivers.Run) -> tuple[float, float, float, float] | None:
    """An open loop's p50, p95, p99 and max (None for a closed loop)."""
    if run.percentiles_ms is None:
        return None
    return (*run.percentiles_ms, float("nan") if run.max_ms is None else run.max_ms)


def combine_latencies(each: list[tuple[float, float, float, float]]
                      ) -> tuple[float, float, float, float]:
    """Runs' p50/p95/p99/max as one: the median of each percentile, and the slowest call of
    them all."""
    return (statistics.median(v[0] for v in each), statistics.median(v[1] for v in each),
            statistics.median(v[2] for v in each), max(v[3] for v in each))


def median_spread(values: list[float], digits: int = 2) -> str:
    """The median of `values`, and where there are several their range: "0.85 (0.80-0.90)";
    "" for none."""
    if not values:
        return ""
    median = f"{statistics.median(values):.{digits}f}"
    if len(values) == 1:
        return median
    return f"{median} ({min(values):.{digits}f}-{max(values):.{digits}f})"


# An open loop's calls/s: a number, None (--rate), or a function of the closed loops' rows.
OpenRate = int | Callable[[list[Row]], int] | None


def _ts(moment: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(moment)
    return ts


@dataclass(frozen=True)
class Volume:
    """The data the hot RPCs run over."""

    users: int  # segments users, each in about 3 of 10 segments
    history: int  # segments.history rows, in one month
    banners: int  # banners with a per-minute count for every minute of `days` (GetStats)
    days: int
    products: int

    def times(self, factor: int) -> Volume:
        """`factor` times as many of everything, over the same days."""
        return replace(self, users=self.users * factor, history=self.history * factor,
                       banners=self.banners * factor, products=self.products * factor)

    @property
    def rows(self) -> int:
        """Rows loaded in all (memberships are about 3 per user)."""
        return (4 * self.users + self.history + self.banners * self.days * 1440
                + self.products)

    def describe(self) -> str:
        return (f"{self.users:,} segment users ({3 * self.users:,} memberships), "
                f"{self.history:,} history rows in a month, {self.banners:,} banners x "
                f"{self.days} days of minutes ({self.banners * self.days * 1440:,} rows), "
                f"{self.products:,} products")


def default_volume(users: int) -> Volume:
    """Without --scale: `users` users and history rows, 10 banners x 30 days, 1,000
    products."""
    return Volume(users=users, history=users, banners=10, days=30, products=1000)


def scale_base(users: int) -> Volume:
    """The 1x of --scale: `users` users and history rows, a banner per 10,000 users with
    40 days of minutes (the clicks retention), a product per 100 users. From 1,000,000
    users, 10x is 10 M users and history rows, 1,000 banners x 40 days, 100,000
    products."""
    return Volume(users=users, history=users, banners=max(1, users // 10_000), days=40,
                  products=max(100, users // 100))


def setup(url: str, volume: Volume, timings: dict[str, float] | None = None) -> list[Spec]:
    """The data every RPC reads or writes (`volume` of it), and the RPCs' specs; the
    seconds each part took to load go to `timings`."""
    from tests.bench.clicks import _load_days
    from tests.bench.segments import load as load_segments
    from tests.bench.shop import setup as setup_shop

    timings = {} if timings is None else timings
    users = volume.users
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        def one(sql: str, *params: object) -> int:
            row = conn.execute(sql, params).fetchone()
            assert row is not None
            return int(row[0])

        # clicks: one banner for RecordClick, ten for RecordClicks, `banners` with
        # per-minute counts over `days` for GetStats.
        click_banner = one("select id from clicks.create_banner('bench click')")
        bulk_banners = [one("select id from clicks.create_banner(%s)", f"bench bulk {i}")
                        for i in range(10)]
        first_read = one("select min(id) from (select (clicks.create_banner("
                         "'bench read ' || i)).id from generate_series(1, %s) i) b",
                         volume.banners)
        read_banners = list(range(first_read, first_read + volume.banners))
        _load_days(conn, read_banners, now, days=volume.days)
        timings["clicks"] = time.perf_counter() - started
        # booking: one event to read, 1,000 with ample seats to book.
        read_event = one("select (booking.create_event('bench read', 100)).id")
        first_event = one("select min(id) from (select (booking.create_event("
                          "'bench ' || i, 1000000)).id from generate_series(1, 1000) i) e")
    # segments: `users` users x 10 segments (BENCH_1..10), `history` rows of history, and
    # two segments no one has for UpdateUserSegments to add and remove.
    for part, seconds in load_segments(url, users, volume.history).items():
        timings[f"segments {part}"] = seconds
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select segments.create_segment('BENCH_ADDED'),"
                     " segments.create_segment('BENCH_REMOVED')")
    # shop: 10 categories, 100 users with an address, `products` products with ample
    # stock.
    started = time.perf_counter()
    setup_shop(url, volume.products)
    timings["shop"] = time.perf_counter() - started
    order_user, order_product = 7, 42

    def clicks_of(banners: list[int]) -> State:
        return lambda c: tuple(c.execute(
            "select coalesce(sum(clicks), 0) from clicks.minute_counts"
            " where banner_id = any(%s)", (banners,)).fetchone() or (0,))

    def clicks_exact(per_call: int) -> Callable[..., tuple[bool, str]]:
        def check(before: tuple[int, ...], after: tuple[int, ...], ok: int
                  ) -> tuple[bool, str]:
            added = after[0] - before[0]
            return (added == per_call * ok,
                    f"clicks counted {added:,} = {per_call} x {ok:,} OK calls")
        return check

    def bookings(c: psycopg.Connection) -> tuple[int, ...]:
        row = c.execute(
            "select count(*), (select count(*) from booking.events"
            "                   where booked_seats > total_seats)"
            " from booking.bookings where event_id between %s and %s",
            (first_event, first_event + 999)).fetchone()
        return tuple(row or (0, 0))

    def bookings_exact(before: tuple[int, ...], after: tuple[int, ...], ok: int
                       ) -> tuple[bool, str]:
        added = after[0] - before[0]
        return (added == ok and after[1] == 0,
                f"bookings written {added:,} = {ok:,} OK calls; overbooked events {after[1]}")

    def segments_state(c: psycopg.Connection) -> tuple[int, ...]:
        row = c.execute(
            "select (select count(*) from segments.memberships m join segments.segments s"
            "          on s.id = m.segment_id where s.slug = 'BENCH_ADDED'),"
            "       (select count(*) from segments.history"
            "         where slug = 'BENCH_ADDED' and operation = 'add'),"
            "       (select count(*) from segments.history where slug = 'BENCH_REMOVED')"
            ).fetchone()
        return tuple(row or (0, 0, 0))

    def segments_exact(before: tuple[int, ...], after: tuple[int, ...], ok: int
                       ) -> tuple[bool, str]:
        # Call i updates user i % users + 1: each of the first `users` calls adds the
        # segment (a membership, an 'add' row), a later call of the same user only moves
        # its expiry; no user ever has BENCH_REMOVED, so no call removes anything.
        want = min(ok, users)
        return (before == (0, 0, 0) and after == (want, want, 0),
                f"{ok:,} OK calls over {users:,} users: memberships {after[0]:,}, 'add'"
                f" rows {after[1]:,} (want {want:,} each), removals {after[2]}")

    def orders(c: psycopg.Connection) -> tuple[int, ...]:
        row = c.execute(
            "select (select count(*) from shop.orders where user_id = %s),"
            "       (select stock_quantity from shop.products where id = %s),"
            "       (select coalesce(sum(orders_count), 0) from shop.statistics"
            "         where category_id = 1)",
            (order_user, order_product)).fetchone()
        return tuple(int(v) for v in (row or (0, 0, 0)))

    def orders_exact(before: tuple[int, ...], after: tuple[int, ...], ok: int
                     ) -> tuple[bool, str]:
        placed, sold, counted = after[0] - before[0], before[1] - after[1], after[2] - before[2]
        return (placed == sold == counted == ok,
                f"orders {placed:,}, stock taken {sold:,}, statistics +{counted:,}"
                f" = {ok:,} OK calls")

    # CreateOrder spread over products (another user, products 100-999, none of them the
    # hot one), so its rows are apart from the hot row's; in a category of their own, so
    # the statistics the hot row's check reads (category 1) count only its orders.
    spread_user, spread_products = 8, list(range(100, min(volume.products, 999) + 1))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("update shop.products set category_id = 2 where id = any(%s)",
                     (spread_products,))

    def spread_orders(c: psycopg.Connection) -> tuple[int, ...]:
        row = c.execute(
            "select (select count(*) from shop.orders where user_id = %s),"
            "       (select coalesce(sum(stock_quantity), 0) from shop.products"
            "         where id = any(%s)),"
            "       (select count(*) from shop.order_items i join shop.orders o"
            "           on o.id = i.order_id where o.user_id = %s)",
            (spread_user, spread_products, spread_user)).fetchone()
        return tuple(int(v) for v in (row or (0, 0, 0)))

    def spread_exact(before: tuple[int, ...], after: tuple[int, ...], ok: int
                     ) -> tuple[bool, str]:
        placed, sold, lines = after[0] - before[0], before[1] - after[1], after[2] - before[2]
        return (placed == sold == lines == ok,
                f"orders {placed:,}, stock taken {sold:,}, lines {lines:,} = {ok:,} OK calls")

    stats_from = now - timedelta(days=2)
    return [
        Spec("ClickService.RecordClick", "/tally.clicks.v1.ClickService/RecordClick", "write",
             clicks_pb2.RecordClickRequest(banner_id=click_banner).SerializeToString(),
             what="one banner", state=clicks_of([click_banner]), exact=clicks_exact(1)),
        Spec("ClickService.RecordClicks", "/tally.clicks.v1.ClickService/RecordClicks",
             "write", clicks_pb2.RecordClicksRequest(clicks=[
                 clicks_pb2.ClickCount(banner_id=b, count=1)
                 for b in bulk_banners for _ in range(10)]).SerializeToString(),
             what="100 entries (10 banners x 10, count 1, time unset)",
             state=clicks_of(bulk_banners), exact=clicks_exact(100)),
        Spec("ClickService.GetStats", "/tally.clicks.v1.ClickService/GetStats", "read",
             clicks_pb2.GetStatsRequest(
                 banner_id=read_banners[min(3, len(read_banners) - 1)],
                 ts_from=_ts(stats_from),
                 ts_to=_ts(stats_from + timedelta(hours=24))).SerializeToString(),
             what=f"24 h = 1,440 points of a banner with {volume.days} days of data"),
        # The same banner over 1 hour: what a call costs apart from its 1,440 points.
        Spec("ClickService.GetStats", "/tally.clicks.v1.ClickService/GetStats", "read",
             clicks_pb2.GetStatsRequest(
                 banner_id=read_banners[min(3, len(read_banners) - 1)],
                 ts_from=_ts(stats_from),
                 ts_to=_ts(stats_from + timedelta(hours=1))).SerializeToString(),
             what="1 h = 60 points of the same banner (the per-call cost without the"
                  " 24 h answer's size)",
             label="ClickService.GetStats (1 h)"),
        Spec("BookingService.ReserveSeat", "/tally.booking.v1.BookingService/ReserveSeat",
             "write", varying=drivers.Varying([
                 booking_pb2.ReserveSeatRequest(event_id=first_event + i).SerializeToString()
                 for i in range(1000)], field=2),
             what="a new user each call, the 1,000 events in turn",
             state=bookings, exact=bookings_exact),
        Spec("BookingService.GetEvent", "/tally.booking.v1.BookingService/GetEvent", "read",
             booking_pb2.GetEventRequest(event_id=read_event).SerializeToString(),
             what="one event (Redis-cached after the first call)"),
        Spec("SegmentService.GetUserSegments",
             "/tally.segments.v1.SegmentService/GetUserSegments", "read",
             segments_pb2.GetUserSegmentsRequest(user_id=42).SerializeToString(),
             what=f"one user of {users:,}, 10 segments"),
        Spec("SegmentService.UpdateUserSegments",
             "/tally.segments.v1.SegmentService/UpdateUserSegments", "write",
             varying=drivers.Varying([segments_pb2.UpdateUserSegmentsRequest(
                 add=[segments_pb2.SegmentToAdd(slug="BENCH_ADDED",
                                                ttl=Duration(seconds=86400))],
                 remove=["BENCH_REMOVED"]).SerializeToString()],
                 field=1, counter=True, modulo=users),
             what=f"the next of {users:,} users each call: add BENCH_ADDED (ttl 1 day),"
                  " remove BENCH_REMOVED",
             state=segments_state, exact=segments_exact),
        Spec("ProductService.GetProduct", "/tally.shop.v1.ProductService/GetProduct", "read",
             shop_pb2.GetProductRequest(product_id=order_product).SerializeToString(),
             what="one product (Redis-cached after the first call)"),
        Spec("OrderService.CreateOrder", "/tally.shop.v1.OrderService/CreateOrder", "write",
             shop_pb2.CreateOrderRequest(
                 user_id=order_user, delivery_address_id=order_user,
                 items=[shop_pb2.CreateOrderRequest.Item(product_id=order_product,
                                                         quantity=1)]).SerializeToString(),
             what="one user, one line of one product (its stock row is hot)",
             state=orders, exact=orders_exact),
        # Call i orders product 100 + i % 900: each request is whole in its prefix, and
        # the varying field (15) is one CreateOrderRequest does not have, so the server
        # ignores it.
        Spec("OrderService.CreateOrder", "/tally.shop.v1.OrderService/CreateOrder", "write",
             varying=drivers.Varying([shop_pb2.CreateOrderRequest(
                 user_id=spread_user, delivery_address_id=spread_user,
                 items=[shop_pb2.CreateOrderRequest.Item(product_id=p, quantity=1)]
                 ).SerializeToString() for p in spread_products], field=15, counter=True),
             what=f"one user, one line of the next of {len(spread_products)} products"
                  " (no hot row)",
             state=spread_orders, exact=spread_exact,
             label=f"OrderService.CreateOrder ({len(spread_products)} products)"),
    ]


KEYED_RPCS = ("ClickService.RecordClick", "OrderService.CreateOrder")
KEY_HEADER = "idempotency-key"
KEYED_RATIO = 0.8  # target: with a key on every call, at least this share of the throughput
UNKNOWN_FIELD = 15  # grpcload's per-call field: not in either request, so parsers skip it


def keyed_pairs(specs: list[Spec], rounds: int = 1) -> list[Spec]:
    """RecordClick and CreateOrder, each twice through grpcload, the same request bytes
    (plus a skipped unknown field that differs per call): without a key, then with
    `idempotency-key: <tag>-<i>`, a different key on every call (a fixed key would be a
    replay, not a write). With rounds > 1 the pair is measured that many times, without
    and with a key in turn, so that a shared machine's drift falls on both alike."""
    pairs = []
    for spec in specs:
        # The RPC's own row (a fixed request, no label), not its variants such as
        # CreateOrder over 900 products, whose request is made per call.
        if spec.rpc in KEYED_RPCS and not spec.label and spec.body:
            for k in range(1, rounds + 1):
                for header, label in ((None, "no key"), (KEY_HEADER, "key")):
                    pairs.append(replace(
                        spec, body=b"",
                        label=f"{spec.rpc} [{label}]" + (f" #{k}" if rounds > 1 else ""),
                        varying=drivers.Varying([spec.body], field=UNKNOWN_FIELD,
                                                key_header=header)))
    return pairs


def keyed_ratios(rows: list[Row]) -> str:
    """Calls/s with a key over calls/s without, per RPC, load and round (each keyed run
    against the run without a key just before it); and the same for calls per CPU
    second of the server and PostgreSQL together, which a shared machine's other load
    disturbs much less than calls/s (it takes CPU from both runs' rates, not from what a
    call costs)."""
    by = {(r.rpc, r.load): r for r in rows}

    def per_core(r: Row) -> float:
        used = r.server_cores + r.postgres_cores
        return r.run.rate / used if used else 0.0

    out = ["| RPC | load | no key calls/s | key calls/s | key / no key | target"
           " | no key calls per CPU s | key calls per CPU s | key / no key per CPU s |",
           "|---|---|---|---|---|---|---|---|---|"]
    ratios: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for (label, load), without in by.items():
        rpc, sep, rest = label.partition(" [no key]")
        if not sep or rpc not in KEYED_RPCS:
            continue
        keyed = by.get((f"{rpc} [key]{rest}", load))
        if keyed is None:
            continue
        ratio = keyed.run.rate / without.run.rate if without.run.rate else 0.0
        cpu_ratio = per_core(keyed) / per_core(without) if per_core(without) else 0.0
        ratios.setdefault((rpc, load), []).append((ratio, cpu_ratio))
        out.append(f"| {rpc}{rest} | {load} | {without.run.rate:,.0f} | {keyed.run.rate:,.0f}"
                   f" | {ratio:.2f} | >= {KEYED_RATIO}x:"
                   f" {'met' if ratio >= KEYED_RATIO else 'missed'} | {per_core(without):,.0f}"
                   f" | {per_core(keyed):,.0f} | {cpu_ratio:.2f} |")
    for (rpc, load), each in ratios.items():
        if len(each) > 1:
            rate = [r for r, _ in each]
            cpu = [c for _, c in each]
            out.append(f"| {rpc}, {len(each)} rounds | {load} | | | median"
                       f" {statistics.median(rate):.2f} (min {min(rate):.2f}, max"
                       f" {max(rate):.2f}) | >= {KEYED_RATIO}x:"
                       f" {'met' if statistics.median(rate) >= KEYED_RATIO else 'missed'} | |"
                       f" | median {statistics.median(cpu):.2f} (min {min(cpu):.2f}, max"
                       f" {max(cpu):.2f}) |")
    return "\n".join(out)


def rpc_counts(metrics_addr: str) -> dict[tuple[str, str], int]:
    """tally_rpcs_total by (method, code), summed over the server's workers."""
    counts: dict[tuple[str, str], int] = {}
    for line in metrics_text(metrics_addr).splitlines():
        if line.startswith("tally_rpcs_total{"):
            labels, value = line[len("tally_rpcs_total{"):].rsplit("} ", 1)
            found = dict(re.findall(r'(\w+)="([^"]*)"', labels))
            counts[(found["method"], found["code"])] = int(float(value))
    return counts


def counted(before: dict[tuple[str, str], int], after: dict[tuple[str, str], int],
            rpc: str) -> dict[str, int]:
    """The calls of `rpc` the server answered between two scrapes, by status code."""
    return {code: n - before.get((method, code), 0)
            for (method, code), n in after.items()
            if method == rpc and n - before.get((method, code), 0)}


class Bench:
    def __init__(self, server: ServerProcess, url: str, args: argparse.Namespace) -> None:
        self.server = server
        self.url = url
        self.args = args
        assert server.proc is not None
        self.server_root = server.proc.pid
        self.estimate = 1000.0  # calls/s, from the last warm-up
        self.noop_varying = drivers.Varying([b""], field=2)

    def server_pids(self) -> list[int]:
        from tests.bench.segments import server_pids
        return server_pids(self.server_root)

    def drive(self, spec: Spec | None, streams: int | None, rate: int | None,
              seconds: float, driver: str) -> drivers.Run:
        """One run of `spec` (None: the no-op) with `driver`, of about `seconds`."""
        addr = self.server.addr
        if driver == "grpcload":
            # The no-op through grpcload: the user string lands in field 2 of
            # HealthCheckRequest, which has none; protobuf skips an unknown field.
            path, varying = ((spec.path, spec.varying) if spec and spec.varying
                             else (NOOP_PATH, self.noop_varying))
            if rate is None:
                assert streams is not None
                return drivers.grpcload(
                    addr, path, varying,
                    requests=max(10 * streams, round(self.estimate * seconds)),
                    connections=max(1, streams // STREAMS_PER_CONNECTION),
                    streams_per_connection=STREAMS_PER_CONNECTION)
            return drivers.grpcload(addr, path, varying, requests=round(rate * seconds),
                                    connections=OPEN_LOOP_CONNECTIONS,
                                    streams_per_connection=1, rate=rate)
        path, body = (spec.path, spec.body) if spec else (NOOP_PATH, b"")
        if rate is None:
            assert streams is not None
            # h2load runs a count of calls (see drivers.h2load): as many as the warm-up's
            # rate gives in `seconds`.
            requests = max(10 * streams, round(self.estimate * seconds))
            return drivers.h2load(addr, path, body, requests=requests,
                                  connections=max(1, streams // STREAMS_PER_CONNECTION),
                                  streams_per_connection=STREAMS_PER_CONNECTION)
        return drivers.h2load(addr, path, body, requests=round(rate * seconds),
                              connections=OPEN_LOOP_CONNECTIONS, streams_per_connection=1,
                              rate=rate)

    def measure(self, spec: Spec | None, streams: int | None, rate: int | None,
                driver: str) -> Row:
        rpc = spec.rpc if spec else NOOP
        pg = backend_pids(self.url)
        server = self.server_pids()
        before = rpc_counts(self.server.metrics_addr)
        server_cpu, pg_cpu = cpu_seconds(server), cpu_seconds(pg)
        began = time.perf_counter()
        run = self.drive(spec, streams, rate, self.args.seconds, driver)
        wall = time.perf_counter() - began
        server_cpu, pg_cpu = cpu_seconds(server) - server_cpu, cpu_seconds(pg) - pg_cpu
        time.sleep(0.3)  # a margin: a worker counts a call just before it answers it
        codes = counted(before, rpc_counts(self.server.metrics_addr), rpc)
        if spec is None and driver == "h2load":
            # The no-op is not in tally_rpcs_total: an OK answer carries 7 bytes of DATA,
            # an error none (its status is in the trailers).
            ok = run.data_bytes // NOOP_ANSWER_BYTES
            codes = {"OK": ok} if ok == run.answered else {
                "OK": ok, "not OK (by bytes)": run.answered - ok}
        elif spec is None:
            codes = {"OK": run.answered - run.failed, **(
                {"not OK (grpcload)": run.failed} if run.failed else {})}
        else:
            # Answers the server did not count came from outside tally's handlers (grpc
            # itself refusing a call, say): shown, and they fail the row.
            uncounted = run.answered - sum(codes.values())
            if uncounted > 0:
                codes["answered, not counted"] = uncounted
            if driver == "grpcload" and run.failed:  # its own reading of grpc-status
                codes["(grpcload saw not OK)"] = run.failed
        ok = codes.pop("OK", 0)
        load = (f"{streams} streams" if rate is None else f"open {rate:,}/s")
        label = (spec.label or rpc) if spec else rpc
        return Row(label, load, run, ok, codes, server_cpu / wall, pg_cpu / wall,
                   server_cpu=server_cpu, postgres_cpu=pg_cpu)

    def closed_and_open(self, spec: Spec | None, driver: str, rate: OpenRate = None
                        ) -> list[Row]:
        """The closed loops, then the open loop at `rate` (default --rate; a function:
        what it gives for the closed loops' rows)."""
        rows = [self.measure(spec, s, None, driver) for s in self.args.streams]
        calls = rate(rows) if callable(rate) else rate or self.args.rate
        rows.append(self.measure(spec, None, calls, driver))
        for row in rows:
            print("  " + line(row), flush=True)
        return rows

    def warm_up(self, spec: Spec | None, driver: str) -> None:
        """A short closed-loop run whose figures are not kept: connections, caches and the
        server's per-method state are ready when the measured runs start, and its rate
        sizes h2load's runs."""
        self.estimate = 1000.0
        run = self.drive(spec, 64, None, 1.0, driver)
        self.estimate = max(run.rate, 100.0)


def line(row: Row) -> str:
    """One run, as it is measured (the table at the end adds ratios and verdicts)."""
    run = row.run
    not_ok = ", ".join(f"{k} {v}" for k, v in row.not_ok.items()) or "0"
    lat = latency_ms(run)
    latency = (f"  p50 {lat[0]:.2f} p95 {lat[1]:.2f} p99 {lat[2]:.2f} max {lat[3]:.2f} ms"
               if lat else "")
    note = f"  ({run.note})" if run.note else ""
    return (f"{row.rpc:<34} {row.load:<14} {run.rate:>8,.0f}/s  OK {row.ok:,}, not OK "
            f"{not_ok}; answered {run.answered:,} of {run.started:,} started;"
            f" {run.driver} {run.generator_cores:.2f} cores, server"
            f" {row.server_cores:.2f} ({us(row.server_us)} us/call), PostgreSQL"
            f" {row.postgres_cores:.2f} ({us(row.postgres_us)} us/call){latency}{note}")


def us(value: float | None) -> str:
    """CPU microseconds per call, as the table gives them ("-" without OK calls)."""
    return "-" if value is None else f"{value:,.0f}"


@dataclass
class Summary:
    """A row of the table: the runs of one RPC (spec None: the no-op) at one load with one
    driver, one run per round."""

    spec: Spec | None
    runs: list[Row]
    verdicts: list[str] = field(default_factory=list)

    @property
    def rpc(self) -> str:
        return self.runs[0].rpc

    @property
    def load(self) -> str:
        return self.runs[0].load

    @property
    def driver(self) -> str:
        return self.runs[0].run.driver

    @property
    def rate(self) -> float:
        return statistics.median(r.run.rate for r in self.runs)

    @property
    def ratios(self) -> list[float]:
        return [r.ratio for r in self.runs if r.ratio is not None]

    @property
    def ok(self) -> int:
        return sum(r.ok for r in self.runs)

    @property
    def answered(self) -> int:
        return sum(r.run.answered for r in self.runs)

    @property
    def not_ok(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for r in self.runs:
            for code, n in r.not_ok.items():
                total[code] = total.get(code, 0) + n
        return total

    @property
    def generator_cores(self) -> float:
        return max(r.run.generator_cores for r in self.runs)

    @property
    def server_us(self) -> float | None:
        return _median([r.server_us for r in self.runs])

    @property
    def postgres_us(self) -> float | None:
        return _median([r.postgres_us for r in self.runs])

    @property
    def latency(self) -> tuple[float, float, float, float] | None:
        each = [lat for r in self.runs if (lat := latency_ms(r.run)) is not None]
        return combine_latencies(each) if each else None


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def summarize(timeline: list[tuple[Row, Spec | None]]) -> list[Summary]:
    """The table's rows: the runs of the same RPC (by label), load and driver together, in
    the order each first ran; each run's own verdicts (a write's exactness, a no-op's
    calls) kept, once."""
    by: dict[tuple[str, str, str], Summary] = {}
    for row, spec in timeline:
        summary = by.setdefault((row.rpc, row.load, row.run.driver), Summary(spec, []))
        summary.runs.append(row)
        summary.verdicts.extend(v for v in row.verdicts if v not in summary.verdicts)
    return list(by.values())


def reference_ratios(timeline: list[tuple[Row, Spec | None]]) -> None:
    """Sets each closed-loop run of an RPC's ratio: its calls/s over the mean of the no-op
    runs with the same driver and load nearest before and after it in time (with one
    round, the no-op's at the start and at the end of the benchmark)."""
    def noop_rate(row: Row, indices: range) -> float | None:
        for i in indices:
            other, spec = timeline[i]
            if (spec is None and other.load == row.load
                    and other.run.driver == row.run.driver):
                return other.run.rate
        return None

    for i, (row, spec) in enumerate(timeline):
        if spec is None or row.run.percentiles_ms is not None:
            continue
        near = [rate for rate in (noop_rate(row, range(i - 1, -1, -1)),
                                  noop_rate(row, range(i + 1, len(timeline))))
                if rate is not None]
        reference = statistics.mean(near) if near else 0.0
        row.ratio = row.run.rate / reference if reference else 0.0


def judge(row: Summary, rate: int) -> None:
    """The targets, met or missed by an RPC's row: by its median over the rounds (by its
    only run with one round)."""
    spec = row.spec
    assert spec is not None
    if row.not_ok or row.ok < row.answered:
        row.verdicts.append("calls not all OK: missed")
    latency = row.latency
    if latency is None:
        ratio = statistics.median(row.ratios) if row.ratios else 0.0
        floor = READ_RATIO if spec.kind == "read" else WRITE_RATIO
        row.verdicts.append(f"{spec.kind} >= {floor}x: "
                            + ("met" if ratio >= floor else "missed"))
        if spec.rpc == "ClickService.RecordClick" and row.load.startswith("200 "):
            row.verdicts.append(f">= {RECORD_CLICK_RATE:,.0f}/s: "
                                + ("met" if row.rate >= RECORD_CLICK_RATE else "missed"))
    else:
        p99 = latency[2]
        reached = row.rate >= 0.95 * rate
        row.verdicts.append(f"p99 < {P99_MS:.0f} ms: "
                            + ("met" if p99 < P99_MS and reached else "missed")
                            + ("" if reached else f" (only {row.rate:,.0f}/s answered)"))
    if row.generator_cores >= 0.9:  # each generator runs on one thread
        row.verdicts.append(f"{row.driver} used a whole core: it may have been the limit")


def table(rows: list[Summary], rate: int, rounds: int = 1) -> str:
    """The Markdown table; with rounds > 1 each row gives the median over its runs, the
    ratio's range, and the slowest call of all its open-loop runs."""
    if rounds == 1:
        head = ("| RPC | load | driver | calls/s | x no-op | OK | not OK | generator CPU"
                " | server us/call | PostgreSQL us/call"
                f" | p50 / p95 / p99 / max ms (open {rate:,}/s) | targets |")
    else:
        head = (f"| RPC | load | driver | calls/s (median of {rounds}) | x no-op (median,"
                " min-max) | OK (all rounds) | not OK (all rounds) | generator CPU (max)"
                " | server us/call (median)"
                " | PostgreSQL us/call (median) | p50 / p95 / p99 / max ms (open"
                f" {rate:,}/s; medians, max of all) | targets |")
    out = [head, "|" + "---|" * 12]
    for row in rows:
        not_ok = ", ".join(f"{k} {v:,}" for k, v in row.not_ok.items()) or "0"
        lat = row.latency
        latency = "/".join(f"{v:.1f}" for v in lat) if lat else ""
        out.append(f"| {row.rpc} | {row.load} | {row.driver} | {row.rate:,.0f}"
                   f" | {median_spread(row.ratios)} | {row.ok:,} | {not_ok}"
                   f" | {row.generator_cores:.2f} cores | {us(row.server_us)}"
                   f" | {us(row.postgres_us)} | {latency} | {'; '.join(row.verdicts)} |")
    return "\n".join(out)


@dataclass
class Before:
    """What a write's runs are checked against: its rows and the server's counters before
    the first of them."""

    state: tuple[int, ...]
    counts: dict[tuple[str, str], int]


def before_runs(bench: Bench, spec: Spec) -> Before:
    with psycopg.connect(bench.url, autocommit=True) as conn:
        state = spec.state(conn) if spec.state else ()
    return Before(state, rpc_counts(bench.server.metrics_addr))


def check_rows(bench: Bench, spec: Spec, before: Before, first: Row,
               ok_total: int | None = None) -> None:
    """For a write, its rows against the calls the server answered OK since `before`
    (warm-ups included), or against `ok_total` where given (the OK calls of its own runs,
    when other specs of the same RPC ran in between); the verdict goes to `first`, its
    first row."""
    time.sleep(0.3)
    if ok_total is None:
        ok_total = counted(before.counts, rpc_counts(bench.server.metrics_addr),
                           spec.rpc).get("OK", 0)
    if spec.state and spec.exact:
        with psycopg.connect(bench.url, autocommit=True) as conn:
            exact, said = spec.exact(before.state, spec.state(conn), ok_total)
        print(f"  exactness: {said}: {'EXACT' if exact else 'WRONG'}", flush=True)
        first.verdicts.append(f"rows {'exact' if exact else 'WRONG'}")


def measure_spec(bench: Bench, spec: Spec, tag: str = "", rate: OpenRate = None
                 ) -> list[Row]:
    """Warm-up, the closed loops and the open loop (at `rate`, default --rate) of one RPC,
    then, for a write, its rows against the calls the server answered OK (warm-up
    included)."""
    print(f"\n{tag}{spec.label or spec.rpc} ({spec.driver}):", flush=True)
    before = before_runs(bench, spec)
    bench.warm_up(spec, spec.driver)
    rows = bench.closed_and_open(spec, spec.driver, rate)
    check_rows(bench, spec, before, rows[0])
    return rows


def measure_noop(bench: Bench, needed: list[str], when: str, label: str = "") -> list[Row]:
    """The no-op with each driver in `needed`, its rows named `label` (default: the no-op
    and `when`)."""
    rows = []
    for driver in needed:
        print(f"\nno-op ({driver}, {when}):", flush=True)
        bench.warm_up(None, driver)
        for row in bench.closed_and_open(None, driver):
            row.rpc = label or f"{NOOP} ({when})"
            row.verdicts.extend([] if row.ok == row.run.answered and not row.not_ok
                                else ["calls not all OK"])
            rows.append(row)
    return rows


def measure_rounds(bench: Bench, specs: list[Spec], rounds: int
                   ) -> list[tuple[Row, Spec | None]]:
    """Every run of `rounds` rounds, in time order (spec None: the no-op).

    Round by round (round 1 of every RPC, then round 2, ...), each RPC right after the
    no-op driven by the same generator, and the no-op once more per generator at the
    end. An RPC's ratio is taken against the no-op runs just before and after it (see
    reference_ratios; the no-op between two RPCs serves both): seconds apart rather than
    the whole benchmark's minutes, so a change in the machine's speed between an RPC and
    its reference is as small as it can be. And taking the rounds in turn, not one RPC's
    rounds back to back, lets a slow spell of a shared machine fall on one round of a few
    RPCs instead of on every round of one, where the median over the rounds sets it
    aside. Each round of an RPC has its warm-up; a write's rows are checked once, over
    all its rounds (its state before the first, after the last), against the OK calls of
    its own rounds (the server's counter read around each, warm-up included: another
    spec of the same RPC, such as CreateOrder's two, counts under the same label)."""
    timeline: list[tuple[Row, Spec | None]] = []
    before: dict[int, Before] = {}
    first: dict[int, Row] = {}
    ok_calls: dict[int, int] = {}
    for k in range(1, rounds + 1):
        for i, spec in enumerate(specs):
            name = spec.label or spec.rpc
            timeline.extend((row, None) for row in measure_noop(
                bench, [spec.driver], f"round {k} of {rounds}, before {name}", label=NOOP))
            print(f"\n[round {k} of {rounds}] {name} ({spec.driver}):", flush=True)
            if k == 1:
                before[i] = before_runs(bench, spec)
            counts = rpc_counts(bench.server.metrics_addr)
            bench.warm_up(spec, spec.driver)
            rows = bench.closed_and_open(spec, spec.driver)
            time.sleep(0.3)  # the last answers' counters
            ok_calls[i] = ok_calls.get(i, 0) + counted(
                counts, rpc_counts(bench.server.metrics_addr), spec.rpc).get("OK", 0)
            first.setdefault(i, rows[0])
            timeline.extend((row, spec) for row in rows)
            if k == rounds:
                check_rows(bench, spec, before[i], first[i], ok_calls[i])
    needed = sorted({s.driver for s in specs})
    timeline.extend((row, None) for row in measure_noop(bench, needed, "end", label=NOOP))
    return timeline


def select(specs: list[Spec], only: str) -> list[Spec]:
    wanted = {w.strip() for w in only.split(",") if w.strip()}
    if not wanted:
        return specs
    known = {s.rpc for s in specs} | {s.rpc.split(".")[1] for s in specs}
    unknown = wanted - known
    if unknown:
        raise SystemExit(f"unknown RPC {', '.join(sorted(unknown))}; known: "
                         + ", ".join(s.rpc.split(".")[1] for s in specs))
    return [s for s in specs if s.rpc in wanted or s.rpc.split(".")[1] in wanted]


def setup_line(args: argparse.Namespace) -> str:
    return (f"{os.cpu_count()} cores shared by the generator, the server (--workers"
            f" {args.workers}, rate limit off, jobs off), PostgreSQL and Redis; load average"
            f" {os.getloadavg()[0]:.1f}; {args.seconds:g} s per run after a 1 s warm-up;"
            f" closed loop at {', '.join(map(str, args.streams))} streams"
            f" ({STREAMS_PER_CONNECTION} per connection), open loop at {args.rate:,}"
            f" calls/s over {OPEN_LOOP_CONNECTIONS} connections")


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench rpcs")
    parser.add_argument("--only", default="",
                        help="comma-separated RPC names (RecordClick or"
                             " ClickService.RecordClick); default: every hot RPC")
    parser.add_argument("--seconds", type=float, default=10, help="per measured run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--streams", default="64,200",
                        help="closed-loop concurrency levels (streams in flight)")
    parser.add_argument("--rate", type=int, default=2000, help="open-loop calls per second")
    parser.add_argument("--users", type=int, default=None,
                        help="segments users (and history rows): default 100,000, and"
                             " with --scale the 1x, default 1,000,000")
    parser.add_argument("--scale", type=int, default=None,
                        help="N: every RPC on the 1x data and on N times as much, side by"
                             " side, each on a database and server of its own")
    parser.add_argument("--keep", action="store_true",
                        help="with --scale: keep the Nx database (dropped by default)")
    parser.add_argument("--keys", action="store_true",
                        help="RecordClick and CreateOrder through grpcload, each without"
                             " and with a distinct idempotency key on every call")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure the no-op and every RPC this many times, round by"
                             " round, and give medians; with --keys: each pair this many"
                             " times, in turn")
    args, ignored = parser.parse_known_args(argv)
    if ignored:
        print(f"(rpcs: ignoring options of other benchmarks: {' '.join(ignored)})")
    if args.rounds < 1:
        raise SystemExit("rpcs: --rounds must be at least 1")
    if args.scale is not None and args.rounds > 1:
        raise SystemExit("rpcs: --rounds is not taken with --scale")
    args.streams = [int(s) for s in args.streams.split(",") if s]
    drivers.ensure_h2load()
    if args.scale is not None:
        run_scaled(args)
        return

    url = fresh_database()
    timings: dict[str, float] = {}
    volume = default_volume(args.users or 100_000)
    specs = select(setup(url, volume, timings), args.only)
    if args.keys:
        specs = keyed_pairs(specs, args.rounds)
    rounds = 1 if args.keys else args.rounds  # --keys makes its rounds of its own
    print(f"setup: {setup_line(args)}; data ({volume.describe()}) loaded in"
          f" {sum(timings.values()):.0f} s"
          + (f"; {rounds} rounds, each RPC right after the no-op" if rounds > 1 else ""))
    for spec in specs:
        print(f"  {spec.label or spec.rpc} ({spec.kind}, {spec.driver}): {spec.what}")

    server = ServerProcess(url, workers=args.workers, JOBS="false").start()
    timeline: list[tuple[Row, Spec | None]] = []
    try:
        bench = Bench(server, url, args)
        if rounds == 1:
            needed = sorted({s.driver for s in specs})
            timeline.extend((row, None) for row in measure_noop(bench, needed, "start"))
            for spec in specs:
                timeline.extend((row, spec) for row in measure_spec(bench, spec))
            timeline.extend((row, None) for row in measure_noop(bench, needed, "end"))
        else:
            timeline = measure_rounds(bench, specs, rounds)
    finally:
        server.stop()
    reference_ratios(timeline)
    rows = summarize(timeline)
    for row in rows:
        if row.spec is not None:
            judge(row, args.rate)

    noop: dict[tuple[str, str], list[float]] = {}
    for run_row, run_spec in timeline:
        if run_spec is None and run_row.run.percentiles_ms is None:
            noop.setdefault((run_row.run.driver, run_row.load), []).append(run_row.run.rate)
    for (driver, load), rates in sorted(noop.items()):
        print(f"no-op {driver} {load}: " + ", ".join(f"{r:,.0f}/s" for r in rates)
              + (" (start, end); the mean is the reference" if rounds == 1 else
                 " (in time order); each run of an RPC is against the mean of the no-op"
                 " runs just before and after it"))
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}\n")
    print(table(rows, args.rate, rounds))
    if args.keys:
        print("\n" + keyed_ratios([run_row for run_row, _ in timeline]))


# --scale: the target is hot-path latency at N x the data within this factor
# of 1x; a closed loop's mean latency is its streams over its calls/s, so there it is
# calls/s at N x at least 1 / SCALE_LATENCY of 1x.
SCALE_LATENCY = 1.5


def open_rate(asked: int, estimate: float) -> int:
    """`asked` calls/s, or half of `estimate` (closed-loop calls/s) where that is less,
    rounded down to 50 (at least 50)."""
    return max(50, min(asked, int(estimate / 2) // 50 * 50))


def scale_verdicts(one: Row, many: Row) -> list[str]:
    """How the row at N x the data compares with the same RPC and load at 1x."""
    verdicts = []
    if one.not_ok or one.ok < one.run.answered or many.not_ok or many.ok < many.run.answered:
        verdicts.append("calls not all OK: missed")
    if one.run.percentiles_ms is None or many.run.percentiles_ms is None:
        ratio = many.run.rate / one.run.rate if one.run.rate else 0.0
        floor = 1 / SCALE_LATENCY
        verdicts.append(f"calls/s >= {floor:.2f}x of 1x: "
                        + ("met" if ratio >= floor else "missed"))
    else:
        ratios = [m / o if o else float("inf")
                  for m, o in zip(many.run.percentiles_ms, one.run.percentiles_ms, strict=True)]
        verdicts.append(f"p50/p95/p99 <= {SCALE_LATENCY}x of 1x: "
                        + ("met" if max(ratios) <= SCALE_LATENCY else "missed"))
    return verdicts


def scale_table(pairs: list[tuple[Row, Row]], factor: int) -> str:
    """1x and N x side by side, with the ratios N x / 1x."""
    n = f"{factor}x"
    out = [f"| RPC | load | 1x calls/s | {n} calls/s | {n} / 1x | 1x p50/p95/p99/max ms"
           f" | {n} p50/p95/p99/max ms | {n} / 1x (p50/p95/p99/max) | OK 1x, {n}"
           " | targets |",
           "|" + "---|" * 10]
    for one, many in pairs:
        rate_ratio = f"{many.run.rate / one.run.rate:.2f}" if one.run.rate else ""
        lat1 = lat_n = lat_ratio = ""
        one_lat, many_lat = latency_ms(one.run), latency_ms(many.run)
        if one_lat and many_lat:
            lat1 = "/".join(f"{v:.1f}" for v in one_lat)
            lat_n = "/".join(f"{v:.1f}" for v in many_lat)
            lat_ratio = "/".join(f"{m / o:.2f}" if o else "-"
                                 for m, o in zip(many_lat, one_lat, strict=True))
        not_ok = "".join(f" (not OK {', '.join(f'{k} {v:,}' for k, v in r.not_ok.items())})"
                         for r in (one, many) if r.not_ok)
        verdicts = ([f"1x {v}" for v in one.verdicts]
                    + [f"{n} {v}" for v in many.verdicts])
        out.append(f"| {one.rpc} | {one.load} | {one.run.rate:,.0f} | {many.run.rate:,.0f}"
                   f" | {rate_ratio} | {lat1} | {lat_n} | {lat_ratio}"
                   f" | {one.ok:,}, {many.ok:,}{not_ok}"
                   f" | {'; '.join(verdicts + scale_verdicts(one, many))} |")
    return "\n".join(out)


def flush_cache() -> None:
    """Empties the servers' Redis database (TEST_REDIS_URL, as `make test` does): the 1x
    and the N x server share it, and the same ids name different rows in their databases,
    so each RPC's runs start from an empty cache that only their own server fills."""
    import redis

    client = redis.Redis.from_url(TEST_REDIS_URL)
    client.flushdb()
    client.close()


def run_scaled(args: argparse.Namespace) -> None:
    """Every RPC at 1x and at N x the data, interleaved RPC by RPC (so the machine's
    drift falls on both alike), on two databases with a server each."""
    factor = args.scale
    volumes = [scale_base(args.users or 1_000_000)]
    volumes.append(volumes[0].times(factor))
    labels = ["1x", f"{factor}x"]
    urls = [fresh_database(), fresh_database(f"_x{factor}")]
    check_disk(urls[0], sum(v.rows for v in volumes), f"rpcs --scale {factor}")
    specs: list[list[Spec]] = []
    for label, url, volume in zip(labels, urls, volumes, strict=True):
        print(f"loading {label}: {volume.describe()}", flush=True)
        timings: dict[str, float] = {}
        specs.append(select(setup(url, volume, timings), args.only))
        with psycopg.connect(url) as conn:
            size = conn.execute("select pg_database_size(current_database())").fetchone()
        print(f"  loaded in {sum(timings.values()):.0f} s ("
              + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
              + f"); database {(size[0] if size else 0) / 2**30:.2f} GiB", flush=True)
    print(f"setup: {setup_line(args)}; two servers, one per database, the RPCs"
          f" interleaved RPC by RPC (1x first, then {factor}x first, in turn), Redis"
          f" flushed before each")
    for spec in specs[0]:
        print(f"  {spec.rpc} ({spec.kind}, {spec.driver}): {spec.what}")

    servers = [ServerProcess(url, workers=args.workers, JOBS="false") for url in urls]
    noop_rows: list[Row] = []
    pairs: list[tuple[Row, Row]] = []
    try:
        benches = []
        for server, url in zip(servers, urls, strict=True):
            server.start()
            benches.append(Bench(server, url, args))
        needed = sorted({s.driver for s in specs[0]})
        for label, bench in zip(labels, benches, strict=True):
            flush_cache()
            noop_rows.extend(measure_noop(bench, needed, f"{label} server"))
        for i, pair in enumerate(zip(specs[0], specs[1], strict=True)):
            # 1x first, then N x, and the next RPC the other way round, so that neither
            # size always runs right after the other's load. The open loop's rate:
            # --rate, or, for an RPC the first server answers fewer than twice as fast in
            # its closed loops, half that (an overloaded server's latencies say nothing
            # about the data); the second gets the rate the first got.
            order = [0, 1] if i % 2 == 0 else [1, 0]
            chosen: list[int] = []

            def pick(rows: list[Row], chosen: list[int] = chosen) -> int:
                chosen.append(open_rate(args.rate, min(r.run.rate for r in rows)))
                return chosen[0]

            measured: dict[int, list[Row]] = {}
            for k in order:
                flush_cache()
                measured[k] = measure_spec(benches[k], pair[k], f"[{labels[k]}] ",
                                           chosen[0] if chosen else pick)
            pairs.extend(zip(measured[0], measured[1], strict=True))
    finally:
        for server in servers:
            server.stop()
        if not args.keep:
            drop_database(urls[1])
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}\n")
    print(table(summarize([(row, None) for row in noop_rows]), args.rate))
    print()
    print(scale_table(pairs, factor))
