"""What the benchmarks share: a fresh database, pgbench runs, CPU time from /proc."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from server.core.config import APP_ROLE, with_database
from tests.support import TEST_DATABASE_URL, recreate_database

# Named after the test database (tally_test -> tally_test_bench), so that checkouts with
# test databases of their own get bench databases of their own too.
BENCH_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL") or with_database(
    TEST_DATABASE_URL, conninfo_to_dict(TEST_DATABASE_URL)["dbname"] + "_bench")


def fresh_database(suffix: str = "") -> str:
    """BENCH_DATABASE_URL (with `suffix` added to its database name), dropped and
    migrated afresh."""
    url = BENCH_DATABASE_URL
    if suffix:
        url = with_database(url, conninfo_to_dict(url)["dbname"] + suffix)
    recreate_database(url)
    return url


def drop_database(url: str) -> None:
    """Drops the database at `url` (a bench database at volume takes gigabytes)."""
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(conninfo_to_dict(url)["dbname"])))


BYTES_PER_ROW = 150  # a loaded row on disk, its indexes and some WAL headroom included


def check_disk(url: str, rows: int, what: str) -> None:
    """Says how much disk loading `rows` rows takes and how much is free where the
    PostgreSQL at `url` (on this machine) keeps its data; exits if less than that and
    2 GiB more is free."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("show data_directory").fetchone()
    assert row is not None
    free, need = shutil.disk_usage(row[0]).free, rows * BYTES_PER_ROW
    print(f"disk: {free / 2**30:.1f} GiB free where PostgreSQL keeps its data; {what}"
          f" loads {rows:,} rows, about {need / 2**30:.1f} GiB", flush=True)
    if need > free - 2 * 2**30:
        raise SystemExit(f"bench: not enough disk for {what} (keeping 2 GiB free)")


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        return (f"{self.name:<34} {self.rate:>9.0f}/s  p50 {self.p50_ms:6.2f} ms  "
                f"p95 {self.p95_ms:6.2f} ms  p99 {self.p99_ms:6.2f} ms  "
                f"({self.requests} ok, {self.errors} errors, {self.seconds:.0f} s)")


def run_pgbench(name: str, script: str, database_url: str, *, clients: int, seconds: int,
                defines: dict[str, str] | None = None, user: str = APP_ROLE) -> Result:
    """pgbench with a custom script, as the application role; latencies from its log."""
    pgbench = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
    parts = urlsplit(database_url)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "script.sql"
        path.write_text(script)
        args = [pgbench, "-n", "-M", "prepared", "-c", str(clients), "-j", "2",
                "-T", str(seconds), "-f", str(path), "-l", "--log-prefix", f"{tmp}/log",
                "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432),
                "-U", user, parts.path.lstrip("/")]
        for key, value in (defines or {}).items():
            args += ["-D", f"{key}={value}"]
        done = subprocess.run(args, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed:\n{done.stdout}\n{done.stderr}")
        latencies = []
        for log in Path(tmp).glob("log*"):
            for line in log.read_text().splitlines():
                fields = line.split()
                latencies.append(int(fields[2]) / 1000)
    latencies.sort()
    errors = 0
    for line in done.stdout.splitlines():
        if line.startswith("number of failed transactions"):
            errors = int(line.split(":")[1].split()[0])
    return Result(name, len(latencies), errors, float(seconds), *percentiles(latencies))


def percentiles(values: list[float]) -> tuple[float, float, float]:
    if not values:
        return (0.0, 0.0, 0.0)
    q = statistics.quantiles(values, n=100, method="inclusive")
    return (q[49], q[94], q[98])


def machine() -> str:
    return f"{os.cpu_count()} cores, pgbench on the same machine as PostgreSQL"


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used (the machine is shared, so this,
    unlike wall time, does not grow with other people's load)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def backend_pids(url: str) -> list[int]:
    """The server's PostgreSQL connections (this machine's postmaster children)."""
    with psycopg.connect(url, autocommit=True) as conn:
        return [r[0] for r in conn.execute(
            "select pid from pg_stat_activity where application_name = 'tally-server'"
            " and datname = current_database()")]


def mean_batch_size(metrics_addr: str, batcher: str) -> float:
    """The average size of the batches `batcher` sent, from the server's metrics."""
    from tests.support import metrics_text

    values = {}
    for line in metrics_text(metrics_addr).splitlines():
        for kind in ("sum", "count"):
            if line.startswith(f'tally_batch_size_{kind}{{batcher="{batcher}"}}'):
                values[kind] = float(line.rsplit(" ", 1)[1])
    return values.get("sum", 0.0) / values["count"] if values.get("count") else 0.0
