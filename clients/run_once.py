"""`run-once`: do a piece of work (print, sleep, print) that never runs twice at once.

The guard is the lock of server/jobs/lock.py, spoken over a plain socket: SET NX PX with a
random token on `tally:lock:<name>`, a fencing token from the same script the server uses,
release by a compare-and-delete script (never deletes another holder's lock;
a lock that expired and was taken by someone else is reported, not removed). Key names
and those scripts come from server/jobs/lock_protocol.py, which the server's lock uses too.

Why not redis-py here: this command exists to be started a thousand times at once on a
small machine. `import redis` costs about 0.3 s of CPU and 20 MB of private memory per
process (it pulls in asyncio, ssl and every command module); this file imports only the
standard library and server/jobs/lock_protocol.py, which imports nothing (about 0.04 s,
11 MB); tests check what it imports, and that both sides exclude each other.

Exit status: 0 when the work ran or was skipped because another run holds the lock;
1 when Redis cannot be reached (or answers with an error); 2 for bad arguments.

Under `launch-many`, the environment names two inherited file descriptors: after
connecting, the command writes one byte to LAUNCH_MANY_READY_FD and then blocks reading
LAUNCH_MANY_BARRIER_FD until the launcher closes it, so every copy asks for the lock at
the same moment. It also names the launch (LAUNCH_MANY_ID): the copy that takes the lock
claims the launch in the same script (`tally:launch:<lock>:<id>`, kept an hour), and a
copy of a claimed launch skips even when the lock is free again - so exactly one copy of
the launch runs however late the last ones are woken. Without a launch id, run-once only
excludes: a later run starts once the earlier one released.
"""

from __future__ import annotations

import _socket
import os
import sys
import time

from server.jobs.lock_protocol import NEXT_FENCE_SCRIPT, RELEASE_SCRIPT, fence_key, lock_key

LAUNCH_PREFIX = "tally:launch:"
LAUNCH_CLAIM_MS = 3600 * 1000

# KEYS[1] lock, KEYS[2] launch claim; ARGV[1] our token, ARGV[2] lock ttl (ms), ARGV[3]
# claim ttl (ms), '' when there is no launch. 'ran': a copy of this launch took the lock
# already; 'held': the lock is someone else's; 'ok': the lock (and the launch) are ours.
ACQUIRE_SCRIPT = """
local launch = ARGV[3] ~= ''
if launch and redis.call('EXISTS', KEYS[2]) == 1 then
  return 'ran'
end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 'held'
end
if launch then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
end
return 'ok'
"""


class RedisFailure(Exception):
    pass


def parse_redis_url(url: str) -> tuple[str, int, str | None, str | None, int]:
    """redis://[[user]:password@]host[:port][/db] -> host, port, user, password, db."""
    if not url.startswith("redis://"):
        raise RedisFailure(f"unsupported Redis URL {url!r} (expected redis://host:port/db)")
    rest = url[len("redis://"):]
    rest = rest.partition("?")[0]
    netloc, _, path = rest.partition("/")
    user = password = None
    if "@" in netloc:
        auth, _, netloc = netloc.rpartition("@")
        user, sep, password = auth.partition(":")
        if not sep:
            user, password = None, user
        user = _unquote(user) if user else None
        password = _unquote(password)
    host, port = netloc or "127.0.0.1", 6379
    if netloc.startswith("["):
        host, _, tail = netloc[1:].partition("]")
        if tail.startswith(":"):
            port = int(tail[1:])
    elif ":" in netloc:
        host, _, p = netloc.rpartition(":")
        port = int(p)
    db = int(path) if path.strip() else 0
    return host, port, user, password, db


def _unquote(text: str) -> str:
    if "%" not in text:
        return text
    from urllib.parse import unquote  # rare: only for escaped credentials

    return unquote(text)


class MiniRedis:
    """Just enough RESP2 for a few commands on one connection. Built on _socket, the C
    module under `socket`, whose Python wrapper costs more to import than all the rest."""

    def __init__(self, url: str, timeout: float) -> None:
        host, port, user, password, db = parse_redis_url(url)
        err: OSError | None = None
        for family, kind, proto, _, addr in _socket.getaddrinfo(host.encode(), port, 0,
                                                                _socket.SOCK_STREAM):
            sock = _socket.socket(family, kind, proto)
            sock.settimeout(timeout)
            try:
                sock.connect(addr)
            except OSError as exc:
                sock.close()
                err = exc
                continue
            self.sock = sock
            break
        else:
            raise err or OSError(f"no address for {host}")
        self.buf = b""
        if password is not None:
            self.call("AUTH", *([user] if user else []), password)
        if db:
            self.call("SELECT", db)

    def call(self, *args: str | bytes | int) -> object:
        out = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self.sock.sendall(b"".join(out))
        return self._reply()

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise RedisFailure("connection closed by Redis")
        self.buf += data

    def _line(self) -> bytes:
        while (end := self.buf.find(b"\r\n")) < 0:
            self._fill()
        line, self.buf = self.buf[:end], self.buf[end + 2:]
        return line

    def _reply(self) -> object:
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RedisFailure(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            while len(self.buf) < size + 2:
                self._fill()
            data, self.buf = self.buf[:size], self.buf[size + 2:]
            return data
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [self._reply() for _ in range(size)]
        raise RedisFailure(f"unexpected reply {line!r}")

    def close(self) -> None:
        self.sock.close()


def _now() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


def _say(text: str, stream=None) -> None:
    print(text, file=stream or sys.stdout, flush=True)


def _wait_at_barrier() -> None:
    ready = os.environ.get("LAUNCH_MANY_READY_FD")
    barrier = os.environ.get("LAUNCH_MANY_BARRIER_FD")
    if ready:
        os.write(int(ready), b".")
        os.close(int(ready))
    if barrier:
        # Blocks until the launcher closes the write end: EOF reaches every copy at once.
        os.read(int(barrier), 1)
        os.close(int(barrier))


class Options:
    def __init__(self) -> None:
        env = os.environ
        self.lock = env.get("RUN_ONCE_LOCK") or "run-once"
        self.ttl = float(env.get("RUN_ONCE_TTL") or 10)
        self.sleep = float(env.get("RUN_ONCE_SLEEP") or 1)
        self.redis_url = env.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
        self.timeout = 5.0


_OPTIONS = {"--lock": ("lock", str), "--ttl": ("ttl", float), "--sleep": ("sleep", float),
            "--redis-url": ("redis_url", str), "--timeout": ("timeout", float)}


def _argparse_exit(argv: list[str]) -> None:
    """Help and usage errors, the slow but friendly way (argparse is not imported on the
    normal path: it and what it pulls in cost more than the rest of the start-up)."""
    import argparse

    p = argparse.ArgumentParser(prog="run-once", description=__doc__.splitlines()[0])
    p.add_argument("--lock", help="lock name (RUN_ONCE_LOCK, default run-once)")
    p.add_argument("--ttl", type=float,
                   help="seconds the lock lives if never released (RUN_ONCE_TTL, default 10)")
    p.add_argument("--sleep", type=float, help="seconds of 'work' (RUN_ONCE_SLEEP, default 1)")
    p.add_argument("--redis-url", help="Redis to lock in (REDIS_URL)")
    p.add_argument("--timeout", type=float, help="seconds to wait for any Redis answer (5)")
    p.parse_args(argv)
    p.error("--ttl must be positive and --sleep not negative")


def parse_args(argv: list[str]) -> Options:
    opts = Options()
    i = 0
    try:
        while i < len(argv):
            name, eq, value = argv[i].partition("=")
            if name not in _OPTIONS:
                raise ValueError(name)
            if not eq:
                i += 1
                value = argv[i]
            attr, kind = _OPTIONS[name]
            setattr(opts, attr, kind(value))
            i += 1
    except (ValueError, IndexError):
        _argparse_exit(argv)
    if opts.ttl <= 0 or opts.sleep < 0 or opts.timeout <= 0:
        _argparse_exit(argv)
    return opts


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    run_id = os.urandom(4).hex()
    token = f"{run_id}-{os.urandom(12).hex()}"
    lock, fence = lock_key(args.lock), fence_key(args.lock)
    launch_id = os.environ.get("LAUNCH_MANY_ID") or ""
    claim = f"{LAUNCH_PREFIX}{args.lock}:{launch_id}" if launch_id else lock
    try:
        r = MiniRedis(args.redis_url, args.timeout)
    except (OSError, ValueError, RedisFailure) as exc:
        _say(f"[run {run_id}] error: cannot reach Redis at {args.redis_url}: {exc}", sys.stderr)
        return 1
    _wait_at_barrier()
    try:
        outcome = r.call("EVAL", ACQUIRE_SCRIPT, 2, lock, claim, token,
                         max(1, int(args.ttl * 1000)), LAUNCH_CLAIM_MS if launch_id else "")
        if outcome != b"ok":
            # Decided. What is left (print, exit) yields the CPU to copies that have not
            # asked yet, so the launch is decided sooner.
            os.nice(19)
            reason = ("already started in this launch" if outcome == b"ran"
                      else "already running")
            _say(f"[run {run_id}] skipped: {reason}")
            return 0
        # The fencing token is issued (and counted) even though a print needs none.
        # None: it expired before it was numbered (a ttl below one round trip).
        if r.call("EVAL", NEXT_FENCE_SCRIPT, 2, lock, fence, token) is None:
            _say(f"[run {run_id}] skipped: lock expired at once (ttl too short)")
            return 0
        _say(f"[{_now()}] [run {run_id}] started")
        time.sleep(args.sleep)
        _say(f"[{_now()}] [run {run_id}] finished")
        if r.call("EVAL", RELEASE_SCRIPT, 1, lock, token) != 1:
            _say(f"[run {run_id}] warning: lock {args.lock!r} was no longer ours at release"
                 " (it expired and may be held by another run); left it alone", sys.stderr)
        return 0
    except (OSError, RedisFailure) as exc:
        _say(f"[run {run_id}] error: Redis at {args.redis_url} failed: {exc}", sys.stderr)
        return 1
    finally:
        r.close()


def entry() -> None:
    code = main()
    # Skip the interpreter's teardown: a thousand copies finishing at once would spend
    # more CPU on it than on their work, delaying the copies still asking for the lock.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
