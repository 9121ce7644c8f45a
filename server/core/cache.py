"""Redis for caching and rate limits, never for correctness.

Every Redis call here is best-effort: when Redis is down or slow the server answers from
PostgreSQL (or lets the call through the rate limiter) and logs it, at most once every
few seconds. After a failure Redis is not asked again for `backoff` seconds, so an outage
costs one timeout, not one per call.

The cache is cache-aside with a generation number per key, so that a reader that loaded
an old value from the database cannot put it back after a writer invalidated the key:

    read:        MGET key, key:gen -> hit, or load from SQL and SET only if key:gen is
                 still the generation seen before loading (one Lua call);
    invalidate:  after the transaction commits, INCR key:gen and DEL key (one Lua call).

Domains cache rows by id through `CachedById` (a read-through with the kind's key, TTL and
JSON form, and `invalidate`/`replace` after a change committed), built on
`RedisStore.read_through`.

The cache follows every commit, whoever commits. The domains' tables announce their
changed rows from statement-level triggers (NOTIFY tally_cache, delivered at commit;
sql/tally/10_tg_cached_rows__announce.sql), and every worker of every replica LISTENs
(`CacheListener`) and invalidates those keys: a psql user's write reaches the cache as a
gRPC write does. The handlers still invalidate after their own commits, so a gRPC
writer reads its own write at once, on any worker.

Values are served only while the store can vouch for them. Each value carries the cache
epoch (a counter in Redis) it was written in, and a read counts it only in the current
epoch. The epoch moves on, making every cached value a miss, when
  * an invalidation failed (Redis down or slow): the first thing done once Redis answers
    again, before anything is read from it (so a write during a Redis stall, heard by
    every worker, leaves no worker serving the old value);
  * a worker's listener (re)connects: notifications may have been missed while it was
    not listening (a new process after a kill -9 too).
While a worker is not listening, it reads nothing from the cache (and writes nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar, cast

import asyncpg
import redis.asyncio as aioredis
from google.protobuf.message import Message
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from . import convert

log = logging.getLogger("tally.redis")

GENERATION_TTL_MS = 24 * 3600 * 1000
EPOCH_KEY = "tally:cache:epoch"
NOTIFY_CHANNEL = "tally_cache"

_T = TypeVar("_T")
_D = TypeVar("_D")
_M = TypeVar("_M", bound=Message)

# KEYS: key, key:gen, the epoch; ARGV: generation seen, epoch seen, value, ttl. Stored as
# '<epoch>|<value>' only if neither moved since the value was read from the database.
_SET_IF_GENERATION = """
if (redis.call('GET', KEYS[2]) or '') == ARGV[1]
   and (redis.call('GET', KEYS[3]) or '0') == ARGV[2] then
  redis.call('SET', KEYS[1], ARGV[2] .. '|' .. ARGV[3], 'PX', ARGV[4])
  return 1
end
return 0
"""

_INVALIDATE = """
for i, key in ipairs(KEYS) do
  redis.call('INCR', key .. ':gen')
  redis.call('PEXPIRE', key .. ':gen', ARGV[1])
  redis.call('DEL', key)
end
return #KEYS
"""

# Fixed window counter: the window is numbered by Redis's own clock, so every worker and
# replica agrees on it. Returns {count in this window, milliseconds until it ends}.
_RATE_LIMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local index = math.floor(now / window)
local key = KEYS[1] .. ':' .. index
local count = redis.call('INCR', key)
if count == 1 then redis.call('PEXPIRE', key, window) end
return {count, (index + 1) * window - now}
"""


class RedisStore:
    def __init__(self, url: str, *, timeout: float = 0.25, backoff: float = 1.0) -> None:
        self.url = url
        self.client = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
            decode_responses=True,
            health_check_interval=30,
        )
        self._backoff = backoff
        self._down_until = 0.0
        self._last_warning = 0.0
        # An invalidation failed: move the epoch on before anything else.
        self._dirty = False
        # Whether notifications reach this process (CacheListener): until then, and
        # whenever its listener is down, nothing is read from or written to the cache.
        self.listening = False
        # Waits until this worker has applied every announcement committed so far (set
        # by CacheListener); a cache read waits for it, or skips the cache if it fails.
        self.sync: Callable[[], Awaitable[bool]] | None = None
        # The kinds of cached rows announced by the database ('booking.event', ...): how
        # each names its key (CachedById registers itself).
        self.kinds: dict[str, Callable[[int], str]] = {}
        # Cache reads waiting for the next shared round trip (see `get`).
        self._wanted: list[tuple[str, asyncio.Future[tuple[str | None, str]]]] = []
        self._reading = False
        self._rounds: set[asyncio.Task[None]] = set()
        self._set_if_generation = self.client.register_script(_SET_IF_GENERATION)
        self._invalidate = self.client.register_script(_INVALIDATE)
        self._rate_limit = self.client.register_script(_RATE_LIMIT)

    async def close(self) -> None:
        await self.client.aclose()

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, what: str, exc: BaseException) -> None:
        now = time.monotonic()
        self._down_until = now + self._backoff
        if now - self._last_warning > 5.0:
            self._last_warning = now
            log.warning("redis %s failed, serving without it: %r", what, exc)

    async def _call(self, what: str, fn: Callable[[], Awaitable[_T]], default: _D) -> _T | _D:
        if not self.available:
            return default
        try:
            if self._dirty:
                await self._next_epoch("an invalidation failed while redis was unreachable")
            return await fn()
        except (RedisError, OSError, TimeoutError) as exc:
            self._failed(what, exc)
            return default

    async def _next_epoch(self, why: str) -> None:
        epoch = await self.client.incr(EPOCH_KEY)
        self._dirty = False
        log.info("cache epoch is now %s: %s", epoch, why)

    async def new_epoch(self, why: str) -> None:
        """Make every cached value a miss (now, or as soon as Redis answers)."""
        self._dirty = True
        if not self.available:
            return
        try:
            await self._next_epoch(why)
        except (RedisError, OSError, TimeoutError) as exc:
            self._failed("new epoch", exc)

    # -- cache ---------------------------------------------------------------------------

    async def get(self, key: str) -> tuple[str | None, str]:
        """The cached value (or None) and the version ('<generation> <epoch>') to pass to
        `put`; '-' when the cache may not be used now.

        Reads share their round trips: every read that arrives while a round is in
        flight joins the next one, which waits for the listener's sync once and then
        fetches all their keys, generations and the epoch in one MGET. Under load a
        worker sends one MGET for a whole wave of reads instead of one each (redis-py
        costs far more CPU per command than per key)."""
        if not self.listening:
            return None, "-"
        answer: asyncio.Future[tuple[str | None, str]] = (
            asyncio.get_running_loop().create_future())
        self._wanted.append((key, answer))
        if not self._reading:
            self._reading = True
            task = asyncio.ensure_future(self._read_rounds())
            self._rounds.add(task)
            task.add_done_callback(self._rounds.discard)
        return await answer

    async def _read_rounds(self) -> None:
        wanted: list[tuple[str, asyncio.Future[tuple[str | None, str]]]] = []
        try:
            while self._wanted:
                wanted, self._wanted = self._wanted, []
                found = await self._read_round([key for key, _ in wanted])
                for (_, answer), value in zip(wanted, found, strict=True):
                    if not answer.done():  # its reader may have been cancelled
                        answer.set_result(value)
                wanted = []
        finally:
            self._reading = False
            # Never leave a reader hanging (an unexpected error, or cancelled at shutdown).
            for _, answer in wanted + self._wanted:
                if not answer.done():
                    answer.set_result((None, "-"))
            self._wanted = []

    async def _read_round(self, keys: list[str]) -> list[tuple[str | None, str]]:
        unusable: list[tuple[str | None, str]] = [(None, "-")] * len(keys)
        if self.sync is not None and not await self.sync():
            return unusable
        distinct = list(dict.fromkeys(keys))

        async def fetch() -> list[tuple[str | None, str]]:
            names = [name for key in distinct for name in (key, f"{key}:gen")]
            # decode_responses=True: values come back as str (the stubs allow bytes too)
            values = cast("list[str | None]", await self.client.mget(*names, EPOCH_KEY))
            epoch = values[-1] or "0"
            by_key: dict[str, tuple[str | None, str]] = {}
            for i, key in enumerate(distinct):
                stored, generation = values[2 * i], values[2 * i + 1]
                value = None
                if stored is not None:
                    stored_epoch, _, rest = stored.partition("|")
                    if stored_epoch == epoch:
                        value = rest
                by_key[key] = (value, f"{generation or ''} {epoch}")
            return [by_key[key] for key in keys]

        return await self._call("get", fetch, unusable)

    async def put(self, key: str, value: str, version: str, ttl_ms: int) -> None:
        if version == "-":  # read while the cache could not be used: do not write
            return
        generation, _, epoch = version.partition(" ")

        async def write() -> None:
            await self._set_if_generation(
                keys=[key, f"{key}:gen", EPOCH_KEY], args=[generation, epoch, value, ttl_ms]
            )

        await self._call("put", write, None)

    async def read_through(self, key: str, load: Callable[[], Awaitable[_T]], *,
                           encode: Callable[[_T], object], decode: Callable[[Any], _T],
                           ttl_ms: int) -> _T:
        """The value cached at `key` (`decode` of its JSON); on a miss, `load()`'s, cached
        as the JSON of `encode(value)` for `ttl_ms` unless the key was invalidated while it
        loaded. Without Redis, `load()`'s."""
        cached, generation = await self.get(key)
        if cached is not None:
            return decode(json.loads(cached))
        value = await load()
        await self.put(key, json.dumps(encode(value)), generation, ttl_ms)
        return value

    async def replace(self, key: str, value: object, ttl_ms: int) -> None:
        """After a change committed: cache `value` (stored as JSON) in place of what readers
        may hold. Invalidating first bumps the generation, so a reader that loaded the old
        row before the commit cannot put it back over this one."""
        await self.invalidate([key])
        _, generation = await self.get(key)
        await self.put(key, json.dumps(value), generation, ttl_ms)

    async def invalidate(self, keys: list[str]) -> None:
        """Call after the change committed. Never raises."""
        if not keys:
            return
        try:
            if self._dirty:
                await self._next_epoch("an invalidation failed while redis was unreachable")
            await self._invalidate(keys=keys, args=[GENERATION_TTL_MS])
        except (RedisError, OSError, TimeoutError) as exc:
            # Not these keys only: every value cached before is in doubt once Redis
            # missed an invalidation. The epoch moves on as soon as Redis answers.
            self._dirty = True
            self._failed("invalidate", exc)

    # -- rate limit ----------------------------------------------------------------------

    async def hit(self, key: str, window_ms: int) -> tuple[int, int] | None:
        """Count one call in the current window: (count, ms until reset), None if down."""

        async def count() -> tuple[int, int]:
            n, reset_ms = await self._rate_limit(keys=[key], args=[window_ms])
            return int(n), int(reset_ms)

        return await self._call("rate limit", count, None)


class CachedById(Generic[_T]):
    """One kind of value (an event, a product, ...) cached by row id: `key(id)` names it,
    it lives `ttl_seconds`, and Redis holds `encode(value)` as JSON (`decode(id, json)`
    reads it back). `load(id)` reads it from PostgreSQL. An id below 1 names no row: it
    goes to `load`, so SQL says what is wrong, and is never cached."""

    def __init__(self, store: RedisStore, kind: str, key: Callable[[int], str],
                 ttl_seconds: int, load: Callable[[int], Awaitable[_T]], *,
                 encode: Callable[[_T], object], decode: Callable[[int, Any], _T]) -> None:
        self.store = store
        store.kinds[kind] = key  # what the database's announcements of `kind` name
        self.key = key
        self.ttl_ms = ttl_seconds * 1000
        self._load = load
        self._encode = encode
        self._decode = decode

    async def get(self, row_id: int) -> _T:
        if row_id < 1:
            return await self._load(row_id)
        return await self.store.read_through(
            self.key(row_id), lambda: self._load(row_id), ttl_ms=self.ttl_ms,
            encode=self._encode, decode=lambda cached: self._decode(row_id, cached))

    async def invalidate(self, row_ids: Iterable[int]) -> None:
        """After the change committed: drop these ids' cached values."""
        await self.store.invalidate([self.key(i) for i in row_ids])

    async def replace(self, row_id: int, value: _T) -> None:
        """After the change committed: cache `value`, the row as it committed."""
        await self.store.replace(self.key(row_id), self._encode(value), self.ttl_ms)


def cached_messages(message: type[_M], store: RedisStore, kind: str,
                    key: Callable[[int], str], ttl_seconds: int,
                    load: Callable[[int], Awaitable[_M]]) -> CachedById[_M]:
    """A CachedById of flat protobuf messages, held as convert.to_json's JSON."""
    return CachedById(store, kind, key, ttl_seconds, load, encode=convert.to_json,
                      decode=lambda _, cached: convert.from_json(message, cached))


class CacheListener:
    """LISTENs on the database's cache announcements for one worker and invalidates the
    keys they name. While it is not listening (connecting, reconnecting) the store serves
    nothing from the cache; each time it starts listening, the cache epoch moves on, since
    announcements may have been missed meanwhile.

    It also lets a read wait until it is up to date (`sync`): one `select 1` on the
    listening connection, after which every announcement committed before it has arrived
    (PostgreSQL sends a session its pending notifications before the answer) and its
    invalidation is done. Reads share these round trips: a read waits for the next one
    that starts after it, so a busy worker sends one at a time, back to back.
    """

    def __init__(self, store: RedisStore, database_url: str, *, probe_every: float = 5.0
                 ) -> None:
        self.store = store
        self.database_url = database_url
        self.probe_every = probe_every
        self.listening = asyncio.Event()  # set the first time it listens
        self._conn: asyncpg.Connection | None = None
        self._query = asyncio.Lock()  # one query at a time on the listening connection
        self._next: asyncio.Future[bool] | None = None  # the round trip readers wait for
        self._syncing = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._invalidating: set[asyncio.Task[Any]] = set()

    async def run(self) -> None:
        delay = 0.2
        while True:
            try:
                conn = await asyncpg.connect(
                    self.database_url, timeout=5,
                    server_settings={"application_name": "tally-cache-listener"})
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError,
                    TimeoutError) as exc:
                log.warning("cache listener cannot connect (cache off meanwhile): %r", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            try:
                await self._listen(conn)
                delay = 0.2
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError,
                    TimeoutError) as exc:
                log.warning("cache listener lost its connection (cache off meanwhile): %r",
                            exc)
            finally:
                self.store.listening = False
                self.store.sync = None
                self._conn = None
                with contextlib.suppress(Exception):
                    await conn.close(timeout=1)

    async def _listen(self, conn: asyncpg.Connection) -> None:
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _: lost.set())
        await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
        await self.store.new_epoch("the cache listener started listening")
        self._conn = conn
        self.store.sync = self.sync
        self.store.listening = True
        self.listening.set()
        log.info("cache listener is listening")
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), timeout=self.probe_every)
                break
            # A silently dropped connection never reports its end: ask now and then.
            async with self._query:
                await conn.fetchval("select 1", timeout=self.probe_every)

    def _on_notify(self, _conn: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy,
                   _pid: int, _channel: str, payload: object) -> None:
        kind, *ids = str(payload).split(" ")
        key = self.store.kinds.get(kind)
        if key is None:
            return  # a kind this server does not cache
        keys = [key(int(i)) for i in ids if i.isdigit()]
        self._spawn(self.store.invalidate(keys), self._invalidating)

    def _spawn(self, coro: Awaitable[Any], tasks: set[asyncio.Task[Any]] | None = None
               ) -> asyncio.Task[Any]:
        held = self._tasks if tasks is None else tasks
        task = asyncio.ensure_future(coro)
        held.add(task)
        task.add_done_callback(held.discard)
        return task

    async def sync(self) -> bool:
        """True once every announcement committed before this call has been applied;
        False when that cannot be known now (the listening connection is down)."""
        if self._conn is None:
            return False
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            if not self._syncing:
                self._syncing = True
                self._spawn(self._sync_rounds())
        return await asyncio.shield(self._next)

    async def _sync_rounds(self) -> None:
        try:
            while self._next is not None:
                waiting, self._next = self._next, None
                waiting.set_result(await self._round_trip())
        finally:
            self._syncing = False

    async def _round_trip(self) -> bool:
        conn = self._conn
        if conn is None:
            return False
        try:
            async with self._query:
                await conn.fetchval("select 1", timeout=1.0)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            return False
        # Announcements that came before the answer have started their invalidations.
        if self._invalidating:
            await asyncio.gather(*self._invalidating, return_exceptions=True)
        return True
