"""The click counter original's own load test (k6), aimed at tally: `make bench ARGS=k6`.

tests/bench/click_original.js has the original's shape: virtual users (VUs) ramped up to
500 and down again, each sleeping 0.1 s between requests, and its thresholds: p95 of
the calls under 200 ms, fewer than 1 % failed (here: a call fails unless its grpc-status
is OK, by a k6 check). It runs, against one server (--workers 2, rate limit and jobs
off) on a fresh database:

1. k6's own ceiling: the no-op health Check (no work in the server) from 64 VUs that do
   not sleep, then with the original's shape; with k6's CPU (in cores) beside it, so the
   figures below are read against what k6 itself can send on this machine;
2. RecordClick, each call a click on one of 100 banners: the clicks counted in the
   database and the server's own count of OK calls (tally_rpcs_total) must both equal
   the OK answers k6 saw;
3. GetStats, 24 h (1,440 minutes) from a random minute of 10 banners with 30 days of
   per-minute counts: the server's OK count must equal k6's OK answers. k6 reads each
   answer's status, not its points (--decode: those too), as the original's test read
   only the HTTP status.

    python -m tests.bench k6 [--stages 30s:100,1m:500,1m:500,30s:0] [--sleep 0.1]
                             [--targets noop,record,stats] [--decode] [--workers 2]

--stages shortens (or lengthens) the run for a quick check; the default is the shape
above. k6 comes with the dev dependencies (the `k6` package puts its binary in the
virtualenv's bin/).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from tests.bench.common import backend_pids, cpu_seconds, fresh_database
from tests.bench.rpcs import counted, rpc_counts
from tests.bench.segments import server_pids
from tests.support import ROOT, ServerProcess

SCRIPT = Path(__file__).with_name("click_original.js")
# The original's shape: up to 500 VUs, held, and down again.
STAGES = "30s:100,1m:500,1m:500,30s:0"
CEILING_STAGES = "2s:64,13s:64"  # the no-op without sleeping: as fast as k6 sends
P95_MS, FAILED_SHARE = 200.0, 0.01
RECORD_BANNERS, READ_BANNERS, READ_DAYS = 100, 10, 30
METHODS = {"record": "ClickService.RecordClick", "stats": "ClickService.GetStats",
           "noop": None}


def k6_binary() -> str:
    """k6 from the virtualenv (the dev dependency `k6`), else from PATH."""
    beside = Path(sys.executable).parent / "k6"
    found = str(beside) if beside.exists() else shutil.which("k6")
    if not found:
        sys.exit("bench k6: no k6 binary; `make stubs` installs it (the dev extra k6)")
    return found


def parse_stages(text: str) -> list[dict[str, Any]]:
    """"30s:100,1m:500" -> k6 stages [{duration: "30s", target: 100}, ...]."""
    stages = []
    for part in text.split(","):
        duration, _, target = part.strip().partition(":")
        if not re.fullmatch(r"(\d+(ms|s|m|h))+", duration) or not target.isdigit():
            raise ValueError(f"a stage is DURATION:VUS (30s:100, 1m30s:500), not {part!r}")
        stages.append({"duration": duration, "target": int(target)})
    if not stages:
        raise ValueError("no stages")
    return stages


def stages_seconds(stages: list[dict[str, Any]]) -> float:
    """The stages' total duration in seconds."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(int(n) * units[unit] for stage in stages
               for n, unit in re.findall(r"(\d+)(ms|s|m|h)", stage["duration"]))


@dataclass
class Outcome:
    """One k6 run as its summary and the machine saw it."""

    name: str
    stages: str
    sleep: float
    seconds: float  # k6's test run duration
    ok: int  # answers with grpc-status OK (k6's check)
    not_ok: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    max_vus: int
    thresholds: dict[str, bool]  # k6's own verdict per threshold
    k6_cores: float
    server_cores: float
    postgres_cores: float
    proofs: list[str] = field(default_factory=list)
    exact: bool = True

    @property
    def rate(self) -> float:
        return (self.ok + self.not_ok) / self.seconds if self.seconds else 0.0

    @property
    def failed_share(self) -> float:
        calls = self.ok + self.not_ok
        return self.not_ok / calls if calls else 1.0

    @property
    def passed(self) -> bool:
        return bool(self.thresholds) and all(self.thresholds.values()) and self.exact


def outcome(name: str, stages: str, sleep: float, summary: dict[str, Any],
            cores: tuple[float, float, float]) -> Outcome:
    """An Outcome from k6's end-of-test summary (handleSummary's JSON)."""
    metrics = summary["metrics"]

    def count(metric: str) -> int:
        return int(metrics.get(metric, {}).get("values", {}).get("count", 0))

    duration = metrics.get("grpc_req_duration", {}).get("values", {})
    thresholds = {f"{metric} {rule}": result["ok"]
                  for metric, values in metrics.items()
                  for rule, result in values.get("thresholds", {}).items()}
    return Outcome(
        name, stages, sleep, summary["state"]["testRunDurationMs"] / 1000,
        count("ok_answers"), count("not_ok_answers"),
        *(float(duration.get(key, float("nan"))) for key in ("med", "p(95)", "p(99)", "max")),
        int(metrics.get("vus_max", {}).get("values", {}).get("max", 0)), thresholds, *cores)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def clicks_of(url: str, banners: list[int]) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("select coalesce(sum(clicks), 0) from clicks.minute_counts"
                           " where banner_id = any(%s)", (banners,)).fetchone()
    return int(row[0]) if row else 0


def run_k6(server: ServerProcess, url: str, target: str, stages: str, sleep: float,
           env: dict[str, str], name: str) -> Outcome:
    """One k6 run of click_original.js, with what proves its answers."""
    assert server.proc is not None
    method = METHODS[target]
    banners = json.loads(env.get("BANNERS", "[]"))
    clicks_before = clicks_of(url, banners) if target == "record" else 0
    counts_before = rpc_counts(server.metrics_addr)
    pids, pg = server_pids(server.proc.pid), backend_pids(url)
    server_cpu, pg_cpu, k6_cpu = cpu_seconds(pids), cpu_seconds(pg), _children_cpu()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "summary.json"
        done = subprocess.run(
            [k6_binary(), "run", "--quiet", "--no-usage-report", str(SCRIPT)],
            env={**os.environ, **env, "ADDR": server.addr, "TARGET": target,
                 "STAGES": json.dumps(parse_stages(stages)), "SLEEP": str(sleep),
                 "PROTO_DIR": str(ROOT / "proto"), "OUT": str(out)},
            capture_output=True, text=True)
        # 99: thresholds crossed, which the summary says; anything else is a failure.
        if done.returncode not in (0, 99) or not out.exists():
            raise RuntimeError(f"k6 failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        summary = json.loads(out.read_text())
    wall = time.perf_counter() - began
    cores = ((_children_cpu() - k6_cpu) / wall, (cpu_seconds(pids) - server_cpu) / wall,
             (cpu_seconds(pg) - pg_cpu) / wall)
    result = outcome(name, stages, sleep, summary, cores)
    if method:
        time.sleep(0.3)  # a worker counts a call just before it answers it
        codes = counted(counts_before, rpc_counts(server.metrics_addr), method)
        server_ok = codes.pop("OK", 0)
        result.proofs.append(f"server counted {server_ok:,} OK"
                             + "".join(f", {v:,} {k}" for k, v in codes.items()))
        result.exact = server_ok == result.ok
        if target == "record":
            added = clicks_of(url, banners) - clicks_before
            result.proofs.append(f"clicks counted {added:,}")
            result.exact = result.exact and added == result.ok
        result.proofs.append(f"= {result.ok:,} OK answers: "
                             + ("exact" if result.exact else "WRONG"))
    return result


def line(r: Outcome) -> str:
    verdicts = ", ".join(f"{k} {'passed' if v else 'FAILED'}" for k, v in r.thresholds.items())
    return (f"{r.name}: {r.ok:,} OK, {r.not_ok:,} not OK ({100 * r.failed_share:.2f} %) in"
            f" {r.seconds:.0f} s = {r.rate:,.0f} calls/s, up to {r.max_vus} VUs; p50"
            f" {r.p50_ms:.1f} p95 {r.p95_ms:.1f} p99 {r.p99_ms:.1f} max {r.max_ms:.0f} ms;"
            f" k6 {r.k6_cores:.2f} cores, server {r.server_cores:.2f}, PostgreSQL"
            f" {r.postgres_cores:.2f}; thresholds: {verdicts}"
            + (f"; {' '.join(r.proofs)}" if r.proofs else ""))


def table(results: list[Outcome]) -> str:
    out = ["| run | stages, sleep | calls/s | OK | not OK | p50 / p95 / p99 / max ms"
           " | k6 CPU | server CPU | PostgreSQL CPU | p95 < 200 ms, < 1 % failed | proof |",
           "|" + "---|" * 11]
    for r in results:
        verdict = ("passed" if r.thresholds and all(r.thresholds.values()) else "FAILED: "
                   + ", ".join(k for k, v in r.thresholds.items() if not v))
        out.append(f"| {r.name} | {r.stages}, {r.sleep:g} s | {r.rate:,.0f} | {r.ok:,}"
                   f" | {r.not_ok:,} | {r.p50_ms:.1f} / {r.p95_ms:.1f} / {r.p99_ms:.1f} /"
                   f" {r.max_ms:.0f} | {r.k6_cores:.2f} cores | {r.server_cores:.2f}"
                   f" | {r.postgres_cores:.2f} | {verdict} | {' '.join(r.proofs)} |")
    return "\n".join(out)


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench k6")
    parser.add_argument("--stages", default=STAGES,
                        help="DURATION:VUS,... (default: the original's shape)")
    parser.add_argument("--sleep", type=float, default=0.1,
                        help="seconds a VU sleeps between requests")
    parser.add_argument("--targets", default="noop,record,stats",
                        help="which of noop (k6's ceiling), record, stats to run")
    parser.add_argument("--decode", action="store_true",
                        help="GetStats: k6 decodes every answer (by default it reads the"
                             " status only)")
    parser.add_argument("--workers", type=int, default=2)
    args, _ = parser.parse_known_args(argv)
    targets = [t for t in args.targets.split(",") if t]
    unknown = set(targets) - set(METHODS)
    if unknown:
        sys.exit(f"bench k6: unknown target {', '.join(sorted(unknown))}; known: noop,"
                 " record, stats")
    stages_seconds(parse_stages(args.stages))  # refuses a malformed --stages early
    k6 = k6_binary()

    url = fresh_database()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    with psycopg.connect(url, autocommit=True) as conn:
        def banners(prefix: str, n: int) -> list[int]:
            row = conn.execute("select min(id) from (select (clicks.create_banner("
                               "%s || i)).id from generate_series(1, %s) i) b",
                               (prefix, n)).fetchone()
            assert row is not None
            return list(range(row[0], row[0] + n))

        record_banners = banners("original record ", RECORD_BANNERS)
        read_banners = banners("original read ", READ_BANNERS)
    from tests.bench.clicks import _load_days
    with psycopg.connect(url, autocommit=True) as conn:
        _load_days(conn, read_banners, now, days=READ_DAYS)
    oldest = now - timedelta(days=READ_DAYS - 1)
    stats_env = {"BANNERS": json.dumps(read_banners),
                 "FROM_MS": str(int(oldest.timestamp() * 1000)),
                 "SPAN_MS": str((READ_DAYS - 2) * 86_400_000),
                 "DECODE": "1" if args.decode else "0"}
    version = subprocess.run([k6, "version"], capture_output=True, text=True).stdout.strip()
    print(f"setup: {os.cpu_count()} cores shared by k6, the server (--workers {args.workers},"
          f" rate limit off, jobs off), PostgreSQL and Redis; load average"
          f" {os.getloadavg()[0]:.1f}; {version}; stages {args.stages}"
          f" ({stages_seconds(parse_stages(args.stages)):.0f} s), sleep {args.sleep:g} s;"
          f" RecordClick over {RECORD_BANNERS} banners, GetStats 24 h of {READ_BANNERS}"
          f" banners with {READ_DAYS} days of minutes", flush=True)

    server = ServerProcess(url, workers=args.workers, JOBS="false").start()
    results = []
    try:
        plan = []
        if "noop" in targets:
            plan.append(("noop", CEILING_STAGES, 0.0, {},
                         "Health.Check, no sleep (k6's ceiling)"))
            plan.append(("noop", args.stages, args.sleep, {}, "Health.Check (k6's ceiling)"))
        if "record" in targets:
            plan.append(("record", args.stages, args.sleep,
                         {"BANNERS": json.dumps(record_banners)}, "RecordClick"))
        if "stats" in targets:
            plan.append(("stats", args.stages, args.sleep, stats_env,
                         "GetStats 24 h" + (" (decoded)" if args.decode else "")))
        for target, stages, sleep, env, name in plan:
            print(f"\n{name}: k6, stages {stages}, sleep {sleep:g} s ...", flush=True)
            result = run_k6(server, url, target, stages, sleep, env, name)
            results.append(result)
            print("  " + line(result), flush=True)
    finally:
        server.stop()
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (shared machine)\n")
    print(table(results))
