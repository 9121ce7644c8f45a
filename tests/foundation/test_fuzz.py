"""A fuzz of every RPC, generated from the proto descriptors.

Each request is built field by field from the method's input descriptor: integers at
their bounds (min, max, 0, -1) and at random, strings empty, long (up to past the string
limit), with NUL, in other scripts, or shaped like the values the API parses (decimals,
dates, page tokens), unknown enum numbers, Timestamps and Durations at and past their
ranges, repeated fields empty, short, at and past their limits, nested messages; plus raw
bodies that are not a protobuf at all. The server must never answer INTERNAL or UNKNOWN,
log no error or traceback, and stay SERVING throughout.

Then only invalid writes (each write request made invalid on purpose: an id of -1, a
string past its limit) must change nothing: every table of the domain schemas has the
same row count and checksum before and after.

`make test` runs a fixed seed (FUZZ_SEED, default below) and FUZZ_ROUNDS rounds per RPC;
`make fuzz` runs many more with a random seed, which it prints.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import os
import random
import re

import grpc
import psycopg
import pytest
from google.protobuf.descriptor import FieldDescriptor
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tally.booking.v1 import booking_pb2
from tally.clicks.v1 import clicks_pb2
from tally.segments.v1 import segments_pb2
from tally.shop.v1 import shop_pb2

from server.app import RPC_ACCESS
from server.core import convert, limits
from tests.support import (
    ROOT,
    ServerProcess,
    recreate_database,
    scratch_database_url,
    server_errors,
    status_details,
)

SEED = int(os.environ.get("FUZZ_SEED", "20261130"))
ROUNDS = int(os.environ.get("FUZZ_ROUNDS", "60"))
RAW_ROUNDS = max(5, ROUNDS // 4)
INVALID_ROUNDS = max(3, ROUNDS // 10)
CONCURRENCY = 8

MODULES = (booking_pb2, clicks_pb2, segments_pb2, shop_pb2)
METHODS = [m for mod in MODULES for s in mod.DESCRIPTOR.services_by_name.values()
           for m in s.methods]
SCHEMAS = ("booking", "clicks", "segments", "shop", "tally")
FAULTS = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}

INT32 = (0, 1, -1, 2, 2**31 - 1, -(2**31), 100, 101, 1_000_000, 1_000_001)
INT64 = (0, 1, -1, 2, 2**63 - 1, -(2**63), 2**31, 2**53 + 1, 9999, 10_000)
STRINGS = ("", "a", " ", "\x00", "a\x00b", "é", "日本語", "😀" * 3, "x" * 200, "x" * 201,
           "Ω" * 2000, "y" * (limits.MAX_STRING_CHARS + 1), "0", "-1", "12.50", "1e131072",
           "-1e200000", "NaN", "Infinity", "0.001", "100.01", "9999999999.99",
           "99999999999", "0001-01-01", "9999-12-31", "2025-02-30", "10000-01-01",
           "2025-08-01", "AVITO_VOICE", "a b", "'; drop table x; --", "%", "_", "\\",
           base64.urlsafe_b64encode(b"e:9223372036854775808").decode(),
           base64.urlsafe_b64encode(b"b:-1").decode(), "ZTox", "YjoxMA")


def _path(method) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def _class(descriptor):
    for mod in MODULES:
        if descriptor.file is mod.DESCRIPTOR:
            cls = mod
            for part in descriptor.full_name[len(mod.DESCRIPTOR.package) + 1:].split("."):
                cls = getattr(cls, part)
            return cls
    raise LookupError(descriptor.full_name)


def _is_write(method) -> bool:
    return RPC_ACCESS[method.containing_service.full_name][method.name] == "write"


class Generator:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def integer(self, fd) -> int:
        rng = self.rng
        if fd.type in (fd.TYPE_INT32, fd.TYPE_SINT32, fd.TYPE_SFIXED32):
            return rng.choice(INT32) if rng.random() < 0.7 else rng.randint(-(2**31), 2**31 - 1)
        if fd.type in (fd.TYPE_UINT32, fd.TYPE_FIXED32):
            return rng.choice((0, 1, 2**32 - 1, rng.randint(0, 2**32 - 1)))
        if fd.type in (fd.TYPE_UINT64, fd.TYPE_FIXED64):
            return rng.choice((0, 1, 2**64 - 1, rng.randint(0, 2**64 - 1)))
        if rng.random() < 0.7:
            return rng.choice(INT64)
        return rng.choice((rng.randint(-(2**63), 2**63 - 1), rng.randint(-5, 50)))

    def string(self) -> str:
        rng = self.rng
        if rng.random() < 0.75:
            return rng.choice(STRINGS)
        alphabet = "abcXYZ019_.-@ \x00\t\néß日😀\u202e\ufeff"
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))

    def timestamp(self, msg) -> None:
        rng = self.rng
        msg.seconds = rng.choice((0, convert.TIMESTAMP_MIN_SECONDS, convert.TIMESTAMP_MAX_SECONDS,
                                  convert.TIMESTAMP_MIN_SECONDS - 1,
                                  convert.TIMESTAMP_MAX_SECONDS + 1, 2**63 - 1, -(2**63),
                                  1_800_000_000, 1_700_000_000, rng.randint(-(2**40), 2**40)))
        msg.nanos = rng.choice((0, 999_999_999, 1_000_000_000, -1, 2**31 - 1, -(2**31),
                                rng.randint(0, 999_999_999)))

    def duration(self, msg) -> None:
        rng = self.rng
        msg.seconds = rng.choice((0, 1, -1, 60, 86_400, convert.DURATION_MAX_SECONDS,
                                  convert.DURATION_MAX_SECONDS + 1, -convert.DURATION_MAX_SECONDS,
                                  2**63 - 1, -(2**63)))
        msg.nanos = rng.choice((0, 1, -1, 999_999_999, -999_999_999, 1_000_000_000, 2**31 - 1))

    def count(self, owner, fd) -> int:
        limit = limits.REPEATED[(owner.full_name, fd.name)][0]
        roll = self.rng.random()
        if roll < 0.03:
            return limit + 1
        if roll < 0.06:
            return limit
        return self.rng.choice((0, 1, 1, 2, 3, 5))

    def fill(self, msg, depth: int = 0) -> None:
        descriptor = msg.DESCRIPTOR
        if descriptor.full_name == "google.protobuf.Timestamp":
            self.timestamp(msg)
            return
        if descriptor.full_name == "google.protobuf.Duration":
            self.duration(msg)
            return
        for fd in descriptor.fields:
            if self.rng.random() < 0.25:
                continue  # left unset (of a oneof, the last one set stays)
            if fd.is_repeated:
                n = self.count(descriptor, fd)
                values = getattr(msg, fd.name)
                if fd.type == FieldDescriptor.TYPE_MESSAGE:
                    for _ in range(n):
                        item = values.add()
                        if depth < 3 and n <= 50:
                            self.fill(item, depth + 1)
                        elif n > 50:
                            self.quick(item)
                else:
                    values.extend(self.scalar(fd) for _ in range(n))
            elif fd.type == FieldDescriptor.TYPE_MESSAGE:
                if depth < 3:
                    self.fill(getattr(msg, fd.name), depth + 1)
            else:
                setattr(msg, fd.name, self.scalar(fd))

    def quick(self, msg) -> None:
        """A cheap entry of a long repeated field: small ids and counts, no nesting."""
        for fd in msg.DESCRIPTOR.fields:
            if fd.type in (fd.TYPE_INT32, fd.TYPE_INT64):
                setattr(msg, fd.name, self.rng.randint(-1, 20))
            elif fd.type == fd.TYPE_STRING:
                setattr(msg, fd.name, f"s{self.rng.randint(0, 99)}")

    def scalar(self, fd):
        if fd.type == FieldDescriptor.TYPE_STRING:
            return self.string()
        if fd.type == FieldDescriptor.TYPE_BYTES:
            return self.rng.randbytes(self.rng.randint(0, 64))
        if fd.type == FieldDescriptor.TYPE_BOOL:
            return self.rng.random() < 0.5
        if fd.type == FieldDescriptor.TYPE_ENUM:
            known = [v.number for v in fd.enum_type.values]
            return self.rng.choice([*known, max(known) + 1, 99, -1, 2**31 - 1, -(2**31)])
        if fd.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
            return self.rng.choice((0.0, -1.0, float("inf"), float("nan"), 1e308))
        return self.integer(fd)

    def request(self, method):
        msg = _class(method.input_type)()
        self.fill(msg)
        return msg

    def raw(self, undecodable: bool = False) -> bytes:
        """Bytes that are not a protobuf, or (unless `undecodable`) random ones, which
        may happen to decode."""
        rng = self.rng
        kind = rng.randrange(2, 5) if undecodable else rng.randrange(5)
        if kind == 0:
            return rng.randbytes(rng.randint(1, 64))
        if kind == 1:  # a string field holding invalid UTF-8
            return bytes([(rng.randint(1, 6) << 3) | 2, 2, 0xFF, 0xFE])
        if kind == 2:  # a length past the end
            return bytes([0x0A, 0x7F]) + rng.randbytes(rng.randint(0, 10))
        if kind == 3:  # a varint of eleven bytes
            return b"\x08" + b"\xff" * 10 + b"\x01"
        return bytes([0x0B]) + rng.randbytes(8)  # a start-group tag


def invalidate(method, msg) -> None:
    """Make a write request certainly invalid: every id-like integer -1 where there is
    one, else every string past the limit, else every repeated field past its limit."""
    done = False
    for fd in msg.DESCRIPTOR.fields:
        if fd.type in (fd.TYPE_INT64, fd.TYPE_INT32) and not fd.is_repeated \
                and fd.name.endswith("_id"):
            setattr(msg, fd.name, -1)
            done = True
    if done:
        return
    for fd in msg.DESCRIPTOR.fields:
        if fd.type == fd.TYPE_STRING and not fd.is_repeated:
            setattr(msg, fd.name, "z" * (limits.MAX_STRING_CHARS + 1))
            done = True
    if done:
        return
    for fd in msg.DESCRIPTOR.fields:
        if fd.is_repeated:
            limit = limits.REPEATED[(msg.DESCRIPTOR.full_name, fd.name)][0]
            values = getattr(msg, fd.name)
            del values[:]
            if fd.type == fd.TYPE_MESSAGE:
                for _ in range(limit + 1):
                    values.add()
            else:
                values.extend([""] * (limit + 1))
            done = True
    assert done, f"cannot make a {method.name} request invalid"


def table_sums(url: str) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent checksum of every table of the domain schemas."""
    sums = {}
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "select format('%%I.%%I', n.nspname, c.relname) from pg_class c"
            " join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = any(%s) and c.relkind in ('r', 'p') and not c.relispartition"
            " order by 1", (list(SCHEMAS),)).fetchall()
        for (table,) in tables:
            sums[table] = conn.execute(
                "select count(*), coalesce(md5(string_agg(md5(t::text), ''"
                f" order by md5(t::text))), '') from {table} t").fetchone()
    return sums


@pytest.fixture(scope="module")
def fuzz_server():
    url = scratch_database_url("fuzz")
    recreate_database(url)
    proc = ServerProcess(url, JOBS="false", LOG_LEVEL="WARNING").start()
    yield proc, url
    proc.stop()


async def _call(channel, method, body, tally) -> None:
    timeout = 10.0
    serialize = (lambda b: b) if isinstance(body, bytes) else (lambda m: m.SerializeToString())
    if method.server_streaming:
        call = channel.unary_stream(_path(method), request_serializer=serialize,
                                    response_deserializer=lambda b: b)
        # WatchReports never ends by itself: a short deadline ends it.
        deadline = 1.0 if method.name == "WatchReports" else timeout
        try:
            async for _ in call(body, timeout=deadline):
                pass
            code = grpc.StatusCode.OK
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
            _reason(exc, method, tally)
    else:
        call = channel.unary_unary(_path(method), request_serializer=serialize,
                                   response_deserializer=lambda b: b)
        try:
            await call(body, timeout=timeout)
            code = grpc.StatusCode.OK
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
            _reason(exc, method, tally)
            if code in FAULTS:
                raise AssertionError(f"{method.name} answered {code.name} ({exc.details()})"
                                     f" to {body!r:.500}") from exc
    if code in FAULTS or (code == grpc.StatusCode.DEADLINE_EXCEEDED
                          and method.name != "WatchReports"):
        raise AssertionError(f"{method.name} answered {code.name} to {body!r:.500}")
    tally[(method.name, code.name)] += 1


def _reason(exc: grpc.aio.AioRpcError, method, tally) -> None:
    """Count the ErrorInfo reason of a tally error, to check README documents it. Errors
    grpc itself answers (a passed deadline) carry none."""
    info = status_details(exc).get("ErrorInfo")
    if info is not None:
        tally[("reason", info.reason)] += 0  # seen, not a call


def _undocumented(tally) -> list[str]:
    readme = (ROOT / "README.md").read_text()
    return sorted(reason for kind, reason in tally if kind == "reason"
                  and not re.search(rf"\b{re.escape(reason)}\b", readme))


async def _run(channel, calls, tally) -> None:
    queue: asyncio.Queue = asyncio.Queue()
    for c in calls:
        queue.put_nowait(c)
    health = health_pb2_grpc.HealthStub(channel)

    async def worker() -> None:
        while not queue.empty():
            method, body = queue.get_nowait()
            await _call(channel, method, body, tally)

    async def watch(stop: asyncio.Event) -> None:
        while not stop.is_set():
            reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING, "health left SERVING"
            await asyncio.sleep(0.1)

    stop = asyncio.Event()
    watcher = asyncio.ensure_future(watch(stop))
    try:
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    finally:
        stop.set()
        await watcher


def _print_tally(title: str, tally: collections.Counter) -> None:
    by_code = collections.Counter()
    for (name, code), n in tally.items():
        if name != "reason":
            by_code[code] += n
    print(f"\nfuzz {title}: seed {SEED}, {sum(tally.values())} calls;"
          f" by status: {dict(sorted(by_code.items()))}")


async def test_fuzz_every_rpc(fuzz_server):
    proc, _ = fuzz_server
    rng = random.Random(SEED)
    gen = Generator(rng)
    calls = []
    for method in METHODS:
        calls += [(method, gen.request(method)) for _ in range(ROUNDS)]
        calls += [(method, gen.raw()) for _ in range(RAW_ROUNDS)]
    rng.shuffle(calls)
    tally: collections.Counter = collections.Counter()
    async with grpc.aio.insecure_channel(proc.addr) as channel:
        await _run(channel, calls, tally)
    _print_tally("of every RPC", tally)
    assert sum(tally.values()) == len(calls)
    covered = {name for name, _ in tally if name != "reason"}
    assert covered == {m.name for m in METHODS}
    assert server_errors(proc.log()) == []
    assert _undocumented(tally) == [], "reasons README's error tables do not list"


async def test_invalid_writes_change_nothing(fuzz_server):
    proc, url = fuzz_server
    rng = random.Random(SEED + 1)
    gen = Generator(rng)
    calls = []
    for method in METHODS:
        if not _is_write(method):
            continue
        for _ in range(INVALID_ROUNDS):
            msg = gen.request(method)
            invalidate(method, msg)
            calls.append((method, msg))
        calls += [(method, gen.raw(undecodable=True)) for _ in range(INVALID_ROUNDS)]
    before = table_sums(url)
    tally: collections.Counter = collections.Counter()
    async with grpc.aio.insecure_channel(proc.addr) as channel:
        await _run(channel, calls, tally)
    _print_tally("of invalid writes", tally)
    assert not [k for k in tally if k[1] == "OK"], f"an invalid write succeeded: {tally}"
    assert table_sums(url) == before
    assert server_errors(proc.log()) == []
    assert _undocumented(tally) == [], "reasons README's error tables do not list"
