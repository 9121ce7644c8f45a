"""Load generators for the RPC benchmark: h2load, and grpcload where calls must differ.

h2load (nghttp2) sends the same request body on every stream, costs little CPU per call
and runs on one thread here (`-t 1`), so what it reaches on the no-op health Check is
close to what the server can answer. It judges only the HTTP status, never grpc-status
(a gRPC error is an HTTP 200 with a grpc-status trailer), so a run's calls are proved by
the server's own counters (see rpcs.py), never by h2load's "succeeded".

grpcload (grpcload.c, built here against libnghttp2) is for ReserveSeat, whose calls must
differ (one seat per user and event), which h2load cannot do: it gives every call a user
of its own. It is as lean as h2load (one thread, poll, nghttp2), reads each call's
grpc-status itself, and is compared with the no-op it drives itself in the same run.
"""

from __future__ import annotations

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
GRPCLOAD_SOURCE = Path(__file__).with_name("grpcload.c")
GRPCLOAD = Path(__file__).resolve().parents[2] / ".local" / "bench" / "grpcload"
GRPC_HEADERS = ["-H", "content-type: application/grpc", "-H", "te: trailers"]


def _apt_install(packages: list[str], why: str) -> None:
    """Debian packages the benchmark needs, installed as root (apt-get update first)."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit(f"bench: {why} is missing; install it: sudo apt-get install "
                 + " ".join(packages))
    print(f"bench: installing {' '.join(packages)} (apt-get) for {why}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
                   check=True, env=env, stdout=subprocess.DEVNULL)


def ensure_h2load() -> str:
    """The h2load binary; installed with apt-get (as root) where it is missing."""
    found = shutil.which("h2load")
    if not found:
        _apt_install([H2LOAD_PACKAGE], "h2load")
        found = shutil.which("h2load")
    if not found:
        sys.exit(f"bench: {H2LOAD_PACKAGE} installed but h2load is not on PATH")
    return found


def ensure_grpcload() -> str:
    """grpcload, compiled from grpcload.c when missing or older than its source."""
    if GRPCLOAD.exists() and GRPCLOAD.stat().st_mtime >= GRPCLOAD_SOURCE.stat().st_mtime:
        return str(GRPCLOAD)
    if not shutil.which("gcc") or not Path("/usr/include/nghttp2/nghttp2.h").exists():
        _apt_install(["gcc", "libc6-dev", "libnghttp2-dev"], "building grpcload")
    GRPCLOAD.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["gcc", "-O2", "-Wall", "-o", str(GRPCLOAD), str(GRPCLOAD_SOURCE),
                    "-lnghttp2"], check=True)
    return str(GRPCLOAD)


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
    failed: int  # failures the generator saw (h2load: non-2xx, resets, timeouts; grpcload: not OK)
    generator_cores: float  # the generator's CPU time over the run's wall time
    data_bytes: int = 0  # response DATA bytes (h2load), for the no-op's own proof
    percentiles_ms: tuple[float, float, float] | None = None  # open loop: p50, p95, p99
    max_ms: float | None = None  # open loop: the slowest call
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
               percentiles_ms=percentiles(latencies) if rate is not None else None,
               max_ms=slowest(latencies) if rate is not None else None)


def percentiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return (values[0],) * 3 if values else (float("nan"),) * 3
    q = statistics.quantiles(values, n=100, method="inclusive")
    return (q[49], q[94], q[98])


def slowest(values: list[float]) -> float:
    """The longest call's time (nan without calls)."""
    return max(values, default=float("nan"))


@dataclass
class Varying:
    """How grpcload makes call i differ: prefixes[i % len(prefixes)] (serialized
    messages) followed by field `field` = the string "<unique tag>-<i>" (`counter`
    False), or the number start + i (taken modulo `modulo`, plus 1, if `modulo`)."""

    prefixes: list[bytes]
    field: int
    counter: bool = False
    modulo: int = 0
    start: int = 0  # moved on by each run, so runs continue where the last one ended
    key_header: str | None = None  # set: call i also sends this header = "<tag>-<i>"


def grpcload(addr: str, path: str, varying: Varying, *, requests: int,
             connections: int, streams_per_connection: int, rate: int | None = None) -> Run:
    """Like h2load, but every call's request differs (see Varying). grpc-status is read
    from every call's trailers; open loop times each call from the moment it was due."""
    binary = ensure_grpcload()
    host, _, port = addr.rpartition(":")
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "calls.log"
        args = [binary, host, port, path, str(connections), str(streams_per_connection),
                str(requests), str(rate or 0), str(log_path) if rate else "-",
                str(varying.field), "v" if varying.counter else "s", f"g{time.time_ns()}",
                str(varying.start), str(varying.modulo), *(p.hex() for p in varying.prefixes)]
        varying.start += requests
        cpu = _children_cpu()
        began = time.perf_counter()
        env = {**os.environ, **({"GRPCLOAD_KEY_HEADER": varying.key_header}
                                if varying.key_header else {})}
        done = subprocess.run(args, capture_output=True, text=True, env=env)
        cores = (_children_cpu() - cpu) / (time.perf_counter() - began)
        if done.returncode != 0:
            raise RuntimeError(f"grpcload failed ({done.returncode}):\n{done.stdout}\n"
                               f"{done.stderr}")
        latencies = ([int(line.split("\t")[2]) / 1000
                      for line in log_path.read_text().splitlines()] if rate else [])
    found = re.search(r"calls (\d+) ok (\d+) not_ok (\d+) seconds ([\d.]+)", done.stdout)
    if not found:
        raise RuntimeError(f"grpcload said:\n{done.stdout}\n{done.stderr}")
    calls, _ok, not_ok = (int(found.group(i)) for i in (1, 2, 3))
    return Run("grpcload", float(found.group(4)), calls, calls, not_ok, cores,
               percentiles_ms=percentiles(latencies) if rate else None,
               max_ms=slowest(latencies) if rate else None)
