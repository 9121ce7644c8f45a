"""Clicks benchmark: `make bench ARGS="clicks [--bulk-seconds 15]"`.

RecordClick and GetStats are in `rpcs` (h2load against the no-op); this is what they are
not:
1. RecordClicks bulk throughput (requests of 10,000 entries from a Python client), raw
   single clicks and pre-aggregated per banner-minute counts; target >= 200,000 clicks/s.
2. Reference: pgbench calling clicks.record_click (one click per transaction, no group
   commit) on the same database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import subprocess
import tempfile
import time
from datetime import datetime, timedelta

import grpc
import psycopg
from google.protobuf.timestamp_pb2 import Timestamp
from psycopg.conninfo import make_conninfo

from tests.bench.common import fresh_database
from tests.support import ROOT, ServerProcess


def _load_days(conn: psycopg.Connection, banners: list[int], now: datetime, days: int = 30
               ) -> tuple[int, float]:
    started = time.perf_counter()
    # The loader is the admin: skip the per-row foreign-key triggers for this bulk load
    # of banners that exist.
    conn.execute("set session_replication_role = replica")
    done = conn.execute(
        """insert into clicks.minute_counts (banner_id, minute, clicks)
           select b, m, 1 + (hashint8(b * 1000003 + extract(epoch from m)::bigint) & 15)
             from unnest(%s::bigint[]) b,
                  generate_series(%s::timestamptz, %s::timestamptz - interval '1 minute',
                                  interval '1 minute') m""",
        (banners, now - timedelta(days=days), now))
    conn.execute("set session_replication_role = origin")
    conn.execute("analyze clicks.minute_counts")
    return done.rowcount, time.perf_counter() - started


async def _bulk(addr: str, banners: list[int], seconds: float, senders: int,
                aggregated: bool) -> tuple[int, int, int, list[float]]:
    """RecordClicks with 10,000-entry requests. Raw: count 1 per entry, times in the last
    5 minutes (an edge forwarding single clicks). Aggregated: one entry per (banner,
    minute) of the last 100 minutes, counts 1-100 (an edge that pre-aggregates)."""
    from tally.clicks.v1 import clicks_pb2 as pb
    from tally.clicks.v1 import clicks_pb2_grpc as pb_grpc

    rnd = random.Random(7)
    now = int(time.time())
    requests = []
    for _ in range(8):
        if aggregated:
            entries = [pb.ClickCount(banner_id=b, count=rnd.randint(1, 100),
                                     occurred_at=Timestamp(seconds=now - 60 * m - 30))
                       for b in banners for m in range(1, 101)]
        else:
            entries = [pb.ClickCount(banner_id=rnd.choice(banners), count=1,
                                     occurred_at=Timestamp(seconds=now - rnd.randint(1, 300),
                                                           nanos=rnd.randint(0, 10**9 - 1)))
                       for _ in range(10_000)]
        requests.append((pb.RecordClicksRequest(clicks=entries),
                         sum(e.count for e in entries)))
    accepted = entries_sent = calls = 0
    latencies: list[float] = []
    async with grpc.aio.insecure_channel(addr) as channel:
        stub = pb_grpc.ClickServiceStub(channel)
        deadline = time.perf_counter() + seconds

        async def sender(n: int) -> None:
            nonlocal accepted, entries_sent, calls
            i = n
            while time.perf_counter() < deadline:
                request, expected = requests[i % len(requests)]
                t = time.perf_counter()
                reply = await stub.RecordClicks(request)
                latencies.append((time.perf_counter() - t) * 1000)
                assert reply.accepted == expected
                accepted += reply.accepted
                entries_sent += len(request.clicks)
                calls += 1
                i += 1

        started = time.perf_counter()
        await asyncio.gather(*(sender(n) for n in range(senders)))
        elapsed = time.perf_counter() - started
    return accepted, entries_sent, calls, [elapsed, *latencies]


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")


def run(args: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench clicks")
    parser.add_argument("--bulk-seconds", type=int, default=15)
    opts, _ = parser.parse_known_args(args)

    url = fresh_database()
    print(f"setup: fresh database (BENCH_DATABASE_URL); server --workers 2, RATE_LIMIT_MAX=0;"
          f" the client and PostgreSQL on the same {os.cpu_count()}-core machine"
          f" (load average now {os.getloadavg()[0]:.1f})", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        write_banners = [conn.execute("select id from clicks.create_banner(%s)",
                                      (f"write {i}",)).fetchone()[0] for i in range(100)]

    server = ServerProcess(url, workers=2, RATE_LIMIT_MAX="0", LOG_LEVEL="WARNING").start()
    try:
        for aggregated, label in ((False, "raw: count 1 per entry, last 5 minutes"),
                                  (True, "pre-aggregated: 1 entry per banner-minute,"
                                         " counts 1-100")):
            accepted, entries, calls, timing = asyncio.run(_bulk(
                server.addr, write_banners, opts.bulk_seconds, senders=4,
                aggregated=aggregated))
            elapsed, lat = timing[0], timing[1:]
            print(f"\nRecordClicks bulk ({label}): 4 senders x 10,000-entry requests,"
                  f" {elapsed:.1f} s")
            print(f"  {calls} requests, {entries:,} entries = {entries / elapsed:,.0f} entries/s;"
                  f" {accepted:,} clicks = {accepted / elapsed:,.0f} clicks/s"
                  f" (target >= 200,000 clicks/s)")
            print(f"  request latency p50 {_pct(lat, .5):.1f} ms, p95 {_pct(lat, .95):.1f} ms,"
                  f" p99 {_pct(lat, .99):.1f} ms", flush=True)
    finally:
        server.stop()

    # Reference: one click per transaction straight into SQL (what group commit saves).
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as script:
        script.write(f"\\set b random({write_banners[0]}, {write_banners[-1]})\n"
                     "select clicks.record_click(:b);\n")
        script.flush()
        out = subprocess.run(
            ["/usr/bin/pgbench", "-n", "-c", "16", "-j", "2", "-T", "10", "-f", script.name,
             make_conninfo(url, user="tally_app")],
            capture_output=True, text=True, cwd=ROOT)
        tps = re.search(r"tps = ([\d.]+)", out.stdout)
        lat = re.search(r"latency average = ([\d.]+) ms", out.stdout)
        print("\nReference: pgbench, 16 clients x 10 s, `select clicks.record_click(:b)`"
              " (one click per transaction; RecordClick's figures are in `rpcs`)")
        if tps:
            print(f"  {float(tps.group(1)):,.0f} clicks/s, latency average"
                  f" {lat.group(1) if lat else '?'} ms")
        else:
            print(f"  pgbench failed: {out.stderr.strip()[-500:]}")
