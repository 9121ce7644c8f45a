"""`make bench ARGS=guard`: the 1,000-launch proof and the lock's round trips.

1. launch-many -n N (default 1000) with run-once, lean (`python -S`: the standard library
   only, which is all run-once needs) and optionally as the console script
   (.venv/bin/run-once: site-packages start-up); prints each summary line and wall time.
2. lock acquire + release round trips per second from one process (server/jobs/lock.py:
   SET NX PX, the fencing-token script, the compare-and-delete script), sequentially
   and from 32 concurrent tasks on distinct names, with latency percentiles; the
   reference is a bare SET NX PX + DEL pair on the same connection.

Options: --n N, --seconds S (per lock measurement, default 5), --console-script (also
run the console-script form), --short-hold (also a run with 0.05 s of work: every late
copy asks after the run released the lock, and is skipped because the launch was claimed).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import redis.asyncio as aioredis

from server.jobs import lock

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _opt(args: list[str], name: str, default: str) -> str:
    for a in args:
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return default


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def launch(n: int, command: list[str], redis_url: str, sleep: float = 1.0) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REDIS_URL": redis_url,
           "RUN_ONCE_LOCK": f"bench-{uuid.uuid4().hex[:8]}", "RUN_ONCE_SLEEP": str(sleep)}
    t0 = time.monotonic()
    done = subprocess.run([str(BIN / "launch-many"), "-q", "-n", str(n), "--", *command],
                          env=env, capture_output=True, text=True, cwd="/")
    wall = time.monotonic() - t0
    print(f"  command: {' '.join(command)}  (RUN_ONCE_SLEEP={sleep})")
    print(f"  {done.stdout.strip()}")
    if done.stderr.strip():
        print(f"  stderr: {done.stderr.strip()[:500]}")
    print(f"  exit status {done.returncode}, wall time measured outside {wall:.2f}s", flush=True)


async def lock_rate(redis_url: str, seconds: float, tasks: int) -> None:
    client = aioredis.Redis.from_url(redis_url, max_connections=tasks + 1)
    lat: list[float] = []
    ref: list[float] = []
    loop = asyncio.get_running_loop()

    async def worker(i: int, reference: bool, out: list[float]) -> None:
        name = f"bench-{uuid.uuid4().hex[:6]}-{i}"
        end = loop.time() + seconds
        while loop.time() < end:
            t = loop.time()
            if reference:
                assert await client.set(f"tally:lock:{name}", "x", nx=True, px=10_000)
                await client.delete(f"tally:lock:{name}")
            else:
                held = await lock.acquire(client, name, 10)
                assert held is not None
                assert await held.release()
            out.append(loop.time() - t)

    for label, reference, out in (("lock.acquire + release", False, lat),
                                  ("reference SET NX PX + DEL", True, ref)):
        await asyncio.gather(*(worker(i, reference, out) for i in range(tasks)))
        rate = len(out) / seconds
        print(f"  {label:27s} tasks={tasks:2d}: {rate:8.0f} round trips/s"
              f"  p50 {_pct(out, 50) * 1e3:.2f} ms  p95 {_pct(out, 95) * 1e3:.2f} ms"
              f"  p99 {_pct(out, 99) * 1e3:.2f} ms", flush=True)
    print(f"  ratio (lock / reference) at {tasks} task(s): "
          f"{len(lat) / max(1, len(ref)):.2f}", flush=True)
    await client.aclose()


def run(args: list[str]) -> None:
    n = int(_opt(args, "--n", "1000"))
    seconds = float(_opt(args, "--seconds", "5"))
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    print(f"setup: {os.cpu_count()} CPUs (shared with other work), Redis {redis_url}, n={n}")
    lean = [sys.executable, "-S", "-c", "from clients.run_once import entry; entry()"]
    print(f"\nlaunch-many -n {n} with run-once (ttl 10 s):", flush=True)
    launch(n, lean, redis_url)
    if "--console-script" in args:
        launch(n, [str(BIN / "run-once")], redis_url)
    if "--short-hold" in args:  # the copies woken late find the lock free, the launch claimed
        launch(n, lean, redis_url, sleep=0.05)
    print(f"\nlock round trips from one process ({seconds:.0f} s each):", flush=True)
    for tasks in (1, 32):
        asyncio.run(lock_rate(redis_url, seconds, tasks))
