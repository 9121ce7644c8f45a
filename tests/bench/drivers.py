"""Load generators for the RPC benchmark: h2load, and k6 where h2load cannot do the job.

h2load (nghttp2) sends the same request body on every stream, costs little CPU per call
and runs on one thread here (`-t 1`), so what it reaches on the no-op health Check is
close to what the server can answer. It judges only the HTTP status, never grpc-status
(a gRPC error is an HTTP 200 with a grpc-status trailer), so a run's calls are proved by
the server's own counters (see rpcs.py), never by h2load's "succeeded".

k6 is used only for ReserveSeat, whose calls must differ (one seat per user and event):
h2load cannot vary a body. k6 costs several times more CPU per call, so that RPC is
compared with the no-op driven by k6 in the same run.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

H2LOAD_PACKAGE = "nghttp2-client"  # Debian's package with /usr/bin/h2load
K6 = str(Path(sys.executable).with_name("k6"))
GRPC_HEADERS = ["-H", "content-type: application/grpc", "-H", "te: trailers"]


def ensure_h2load() -> str:
    """The h2load binary; installed with apt-get (as root) where it is missing."""
    found = shutil.which("h2load")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit(f"bench: h2load is missing; install it: sudo apt-get install {H2LOAD_PACKAGE}")
    print(f"bench: installing {H2LOAD_PACKAGE} (apt-get)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                    H2LOAD_PACKAGE], check=True, env=env, stdout=subprocess.DEVNULL)
    found = shutil.which("h2load")
    if not found:
        sys.exit(f"bench: {H2LOAD_PACKAGE} installed but h2load is not on PATH")
    return found


def grpc_frame(message: bytes) -> bytes:
    """A unary request on the wire: not compressed (0), the length (4 bytes, big-endian),
    the serialized message."""
    return b"\x00" + len(message).to_bytes(4, "big") + message


@dataclass
class Run:
    """What the generator saw of one run. `answered` counts responses (h2load: HTTP 2xx,
    whatever their grpc-status); the server's counters tell OK from not OK."""

    driver: str
    seconds: float
    answered: int
    started: int
    failed: int  # failures the generator saw (h2load: non-2xx, resets, timeouts; k6: not OK)
    generator_cores: float  # the generator's CPU time over the run's wall time
    data_bytes: int = 0  # response DATA bytes (h2load), for the no-op's own proof
    percentiles_ms: tuple[float, float, float] | None = None  # open loop: p50, p95, p99
    note: str = ""

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _number(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    if not found:
        raise RuntimeError(f"h2load output without {pattern!r}:\n{text}")
    return int(found.group(1))


def h2load(addr: str, path: str, body: bytes, *, requests: int, connections: int,
           streams_per_connection: int, rate: int | None = None) -> Run:
    """Send `requests` calls of `path` with `body` and wait for every answer.

    Closed loop (rate None): `connections` x `streams_per_connection` calls in flight at
    all times. Open loop: `rate` calls per second in total, spread over the connections
    (h2load's --rps is per connection), with room for 100 in flight per connection so a
    slow answer does not hold back the next call; each call's time is logged.

    A count, not a duration (-D): at the end of a timed run h2load resets the streams
    still in flight, and the server may commit such a call's write without answering it,
    so neither the counters nor the rows would match the answers.
    """
    binary = ensure_h2load()
    with tempfile.TemporaryDirectory() as tmp:
        body_path = Path(tmp) / "body.bin"
        body_path.write_bytes(grpc_frame(body))
        log_path = Path(tmp) / "calls.log"
        args = [binary, "-n", str(requests), "-t", "1", "-c", str(connections),
                "-d", str(body_path), *GRPC_HEADERS]
        if rate is None:
            args += ["-m", str(streams_per_connection)]
        else:
            args += ["-m", "100", "--rps", f"{rate / connections:g}",
                     "--log-file", str(log_path)]
        args.append(f"http://{addr}{path}")
        cpu = _children_cpu()
        began = time.perf_counter()
        done = subprocess.run(args, capture_output=True, text=True)
        cores = (_children_cpu() - cpu) / (time.perf_counter() - began)
        if done.returncode != 0:
            raise RuntimeError(f"h2load failed ({done.returncode}):\n{done.stdout}\n"
                               f"{done.stderr}")
        out = done.stdout
        latencies = []
        if rate is not None:
            for line in log_path.read_text().splitlines():
                _start, status, micros = line.split("\t")
                if status == "200":
                    latencies.append(int(micros) / 1000)
    finished = re.search(r"finished in ([\d.]+)(m?s)", out)
    if not finished:
        raise RuntimeError(f"h2load output without its duration:\n{out}")
    seconds = float(finished.group(1)) / (1000 if finished.group(2) == "ms" else 1)
    succeeded = _number(r"requests: .* (\d+) succeeded", out)
    non_2xx = (_number(r"(\d+) failed", out) + _number(r"(\d+) errored", out)
               + _number(r"(\d+) timeout", out))
    return Run("h2load", seconds, succeeded, _number(r"(\d+) started", out), non_2xx, cores,
               data_bytes=_number(r"\((\d+)\) data", out),
               percentiles_ms=percentiles(latencies) if rate is not None else None)


def percentiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return (values[0],) * 3 if values else (float("nan"),) * 3
    q = statistics.quantiles(values, n=100, method="inclusive")
    return (q[49], q[94], q[98])


K6_SCRIPT = """
import grpc from 'k6/net/grpc';
import { Counter } from 'k6/metrics';

const notOk = new Counter('calls_not_ok');
const closed = __ENV.RATE === '';
export const options = {
  scenarios: { calls: closed
    ? { executor: 'constant-vus', vus: Number(__ENV.VUS), duration: __ENV.SECONDS + 's' }
    : { executor: 'constant-arrival-rate', rate: Number(__ENV.RATE), timeUnit: '1s',
        duration: __ENV.SECONDS + 's', preAllocatedVUs: Number(__ENV.VUS),
        maxVUs: 4 * Number(__ENV.VUS) } },
  summaryTrendStats: ['p(50)', 'p(95)', 'p(99)'],
};

const client = new grpc.Client();
const calls = {
  noop: () => client.invoke('grpc.health.v1.Health/Check', {}),
  reserve: () => client.invoke('tally.booking.v1.BookingService/ReserveSeat', {
    event_id: Number(__ENV.FIRST_EVENT) + Math.floor(Math.random() * Number(__ENV.EVENTS)),
    user_id: `${__ENV.TAG}-${__VU}-${__ITER}`,
  }),
};

let connected = false;
export default function () {
  if (!connected) {
    client.connect(__ENV.ADDR, { plaintext: true, reflect: true });
    connected = true;
  }
  const res = calls[__ENV.CALL]();
  if (!res || res.status !== grpc.StatusOK) notOk.add(1);
}

export function handleSummary(data) {
  return { [__ENV.SUMMARY]: JSON.stringify(data) };
}
"""


def k6(addr: str, call: str, *, seconds: float, vus: int, rate: int | None = None,
       env: dict[str, str] | None = None) -> Run:
    """k6 making `call` (a key of K6_SCRIPT's `calls`): `vus` virtual users in a closed
    loop, or `rate` calls per second (open loop, with that many users preallocated)."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "script.js"
        summary = Path(tmp) / "summary.json"
        script.write_text(K6_SCRIPT)
        cpu = _children_cpu()
        began = time.perf_counter()
        done = subprocess.run(
            [K6, "run", "--quiet", "--no-usage-report", str(script)],
            env={**os.environ, **(env or {}), "ADDR": addr, "CALL": call,
                 "SECONDS": f"{seconds:g}", "VUS": str(vus),
                 "RATE": "" if rate is None else str(rate), "SUMMARY": str(summary),
                 "TAG": f"k6-{time.time_ns()}"},
            capture_output=True, text=True)
        wall = time.perf_counter() - began
        cpu = _children_cpu() - cpu
        if done.returncode != 0:
            raise RuntimeError(f"k6 failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        data = json.loads(summary.read_text())
    metrics = data["metrics"]
    answered = int(metrics["iterations"]["values"]["count"])
    not_ok = int(metrics.get("calls_not_ok", {}).get("values", {}).get("count", 0))
    run_seconds = data["state"]["testRunDurationMs"] / 1000
    dropped = int(metrics.get("dropped_iterations", {}).get("values", {}).get("count", 0))
    duration = metrics["grpc_req_duration"]["values"]
    note = f"k6 could not start {dropped} calls in time" if dropped else ""
    # Over the whole wall time: k6's start-up (compiling the script) is in its CPU time.
    return Run("k6", run_seconds, answered, answered, not_ok, cpu / wall,
               percentiles_ms=((duration["p(50)"], duration["p(95)"], duration["p(99)"])
                               if rate else None), note=note)
