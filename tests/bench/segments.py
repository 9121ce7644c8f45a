"""Segments at volume: 1,000,000 users x 10 segments (--users; 10,000,000 loads in a few
minutes) loaded by SQL, then

(a) pgbench calling segments.user_segments (--clients, --duration s): the SQL's own
    rate and latency, the reference for GetUserSegments over gRPC (see `rpcs`);
(b) CreateSegment with auto_percent 50 over all the users; target < 3 s;
(c) ExportHistory of a month with as many rows as users, streamed to a client that
    counts the rows; target < 5 s for 1,000,000 rows, < 30 s for 10,000,000 (see
    export_target), server memory (RSS of all server processes) growing < 100 MB;
    then the same for the current month, whose rows are the derived adds of (b)'s
    segments (about 500,000 each, not stored).
(b) and (c) also print the CPU time spent (read from /proc): on a shared machine it,
unlike wall time, does not grow with other people's load.

    python -m tests.bench segments [--users 1000000] [--clients 64] [--duration 20]
                                   [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import grpc
import psycopg
from tally.segments.v1 import segments_pb2 as pb
from tally.segments.v1 import segments_pb2_grpc as pb_grpc

from tests.bench.common import (
    backend_pids,
    check_disk,
    cpu_seconds,
    fresh_database,
    machine,
    run_pgbench,
)
from tests.support import ServerProcess

PGBENCH_SCRIPT = """\\set u random(1, :users)
select * from segments.user_segments(:u);
"""

EXPORT_YEAR, EXPORT_MONTH = 2023, 8


def load(url: str, users: int, history: int | None = None) -> dict[str, float]:
    """Users, 10 segments (each user in each with probability 0.3, a tenth of those with
    an expiry a year ahead) and a month (2023-08) of history with `history` rows (default:
    as many as users).

    Set-based, so ten million users load in minutes: each table is one INSERT from
    generate_series, in the order of its primary key (so every index grows at its right
    edge), and a member is chosen by a hash of (user, segment) computed inline."""
    history = users if history is None else history
    timings: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        def step(name: str, sql: str, *params: object) -> None:
            started = time.perf_counter()
            conn.execute(sql, params or None)
            timings[name] = time.perf_counter() - started

        conn.execute("set synchronous_commit = off")
        conn.execute("set maintenance_work_mem = '256MB'")
        step("users", "insert into segments.users (id, created_at)"
             " select g, '2023-07-01' from generate_series(1, %s) g", users)
        step("segments", "select segments.create_segment('BENCH_' || i)"
             " from generate_series(1, 10) i")
        first = conn.execute("select min(id) from segments.segments"
                             " where slug like 'BENCH\\_%'").fetchone()
        assert first is not None
        # Pair g is user g / 10 + 1 and segment first + g % 10: user-major, as the key.
        step("memberships", """
            insert into segments.memberships (user_id, segment_id, expires_at, added_at)
            select g / 10 + 1, %s + g %% 10,
                   case when (g / 10 + 1) %% 10 = 0 then now() + interval '1 year' end,
                   '2023-07-01'
              from generate_series(0, %s * 10 - 1) g
             where (hashint8extended(g / 10 + 1, g %% 10) %% 10000 + 10000) %% 10000 < 3000""",
             first[0], users)
        step("history", """
            insert into segments.history (user_id, segment_id, slug, operation, at)
            select 1 + g %% %s, %s + g %% 10, 'BENCH_' || (1 + g %% 10),
                   case when g %% 3 = 0 then 'remove' else 'add' end::segments.operation,
                   timestamptz '2023-08-01 00:00:00+00'
                     + g * (interval '31 days' / %s)
              from generate_series(0, %s - 1) g""", users, first[0], history, history)
        # The segments schema only: a database-wide ANALYZE would record the shop's empty
        # orders as empty, and every connection would then plan its foreign-key checks
        # against shop.orders as sequential scans for the rest of a run (see bench shop).
        step("analyze", "analyze segments.users, segments.segments, segments.memberships,"
             " segments.opt_outs, segments.history")
    return timings


def server_rss_kib(root_pid: int) -> int:
    """Resident memory of the server process and its children (the workers), in KiB."""
    pids = [root_pid]
    children = Path(f"/proc/{root_pid}/task/{root_pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def server_pids(root_pid: int) -> list[int]:
    children = Path(f"/proc/{root_pid}/task/{root_pid}/children")
    return [root_pid] + ([int(p) for p in children.read_text().split()]
                         if children.exists() else [])


def export_target(rows: int) -> float:
    """Seconds an export of `rows` rows may take: 5 s up to a million rows and somewhat
    beyond, 3 s per million rows from there (30 s for 10 M)."""
    return max(5.0, 3.0 * rows / 1_000_000)


def bench_create_segment(addr: str, url: str, runs: int = 2
                         ) -> list[tuple[float, float, int | str]]:
    """Per run: wall seconds, PostgreSQL CPU seconds, members (or the error's code: the
    server's STATEMENT_TIMEOUT_MS, 5 s by default, ends a longer call)."""
    results = []
    with grpc.insecure_channel(addr) as channel:
        stub = pb_grpc.SegmentServiceStub(channel)
        for i in range(runs):
            pids = backend_pids(url)
            cpu = cpu_seconds(pids)
            started = time.perf_counter()
            members: int | str
            try:
                members = stub.CreateSegment(pb.CreateSegmentRequest(
                    slug=f"BENCH_AUTO50_{i}", auto_percent="50"), timeout=300).auto_members
            except grpc.RpcError as exc:
                members = f"failed, {exc.code().name}"
            results.append((time.perf_counter() - started, cpu_seconds(pids) - cpu,
                            members))
    return results


def bench_export(addr: str, url: str, root_pid: int, year: int, month: int
                 ) -> tuple[float, tuple[float, float, float], int, int, int, int]:
    """Seconds, CPU seconds (server, PostgreSQL, this client), rows, bytes, RSS before
    (KiB), peak RSS during (KiB)."""
    pg, server = backend_pids(url), server_pids(root_pid)
    pg_cpu, server_cpu, client_cpu = cpu_seconds(pg), cpu_seconds(server), time.process_time()
    before = server_rss_kib(root_pid)
    peak = before
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, server_rss_kib(root_pid))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    rows = size = 0
    started = time.perf_counter()
    with grpc.insecure_channel(addr) as channel:
        stub = pb_grpc.SegmentServiceStub(channel)
        for chunk in stub.ExportHistory(
                pb.ExportHistoryRequest(year=year, month=month), timeout=300):
            rows += chunk.data.count(b"\n")
            size += len(chunk.data)
    seconds = time.perf_counter() - started
    cpu = (cpu_seconds(server) - server_cpu, cpu_seconds(pg) - pg_cpu,
           time.process_time() - client_cpu)
    done.set()
    watcher.join()
    return seconds, cpu, rows - 1, size, before, peak


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench segments")
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--clients", "--vus", type=int, default=64)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args, _ = parser.parse_known_args(argv)

    url = fresh_database()
    check_disk(url, 5 * args.users, f"segments --users {args.users}")
    timings = load(url, args.users)
    with psycopg.connect(url) as conn:
        memberships, history = conn.execute(
            "select (select count(*) from segments.memberships),"
            " (select count(*) from segments.history)").fetchone()
    print(f"setup: {machine()}; server --workers {args.workers}, rate limit off; "
          f"{args.users:,} users x 10 segments ({memberships:,} memberships, each user in "
          f"each segment with p = 0.3, 10 % with an expiry), {history:,} history rows in "
          f"{EXPORT_YEAR}-{EXPORT_MONTH:02d}; loaded by SQL in "
          + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()), flush=True)

    server = ServerProcess(url, workers=args.workers).start()
    assert server.proc is not None
    try:
        print(f"\n(a) segments.user_segments by pgbench, {args.clients} clients,"
              f" {args.duration} s, random user of all (GetUserSegments over gRPC: `rpcs`)",
              flush=True)
        sql_result = run_pgbench("user_segments pgbench", PGBENCH_SCRIPT, url,
                                 clients=args.clients, seconds=args.duration,
                                 defines={"users": str(args.users)})
        print(sql_result.line(), flush=True)

        print(f"\n(b) CreateSegment auto_percent 50 over {args.users:,} users", flush=True)
        for seconds, cpu, members in bench_create_segment(server.addr, url):
            ok = isinstance(members, int)
            verdict = "meets" if ok and seconds < 3 else "MISSES"
            print(f"  {seconds:.2f} s wall ({cpu:.2f} s of PostgreSQL CPU), "
                  f"{f'{members:,}' if ok else members} members (target < 3 s) -> {verdict}",
                  flush=True)

        now = datetime.now(UTC)
        for year, month, what in ((EXPORT_YEAR, EXPORT_MONTH, "stored rows"),
                                  (now.year, now.month, "derived adds of (b)")):
            print(f"\n(c) ExportHistory {year}-{month:02d} ({what})", flush=True)
            seconds, cpu, rows, size, before, peak = bench_export(
                server.addr, url, server.proc.pid, year, month)
            growth_mb = (peak - before) / 1024
            target = export_target(rows)
            verdict = "meets" if seconds < target and growth_mb < 100 else "MISSES"
            print(f"  {rows:,} rows, {size / 2**20:.1f} MiB in {seconds:.2f} s wall "
                  f"(CPU: server {cpu[0]:.2f} s, PostgreSQL {cpu[1]:.2f} s, this client"
                  f" {cpu[2]:.2f} s; {rows / seconds:,.0f} rows/s); "
                  f"server RSS {before / 1024:.0f} MB before, "
                  f"{peak / 1024:.0f} MB at peak: +{growth_mb:.1f} MB "
                  f"(targets < {target:.0f} s, < 100 MB) -> {verdict}", flush=True)
    finally:
        server.stop()
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (shared machine)")
