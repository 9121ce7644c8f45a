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

Invalidations that fail while Redis is down are remembered and sent again once it
answers, before anything is read from it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar, cast

import redis.asyncio as aioredis
from google.protobuf.message import Message
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from . import convert

log = logging.getLogger("tally.redis")

GENERATION_TTL_MS = 24 * 3600 * 1000
MAX_REMEMBERED_INVALIDATIONS = 100_000

_T = TypeVar("_T")
_D = TypeVar("_D")
_M = TypeVar("_M", bound=Message)

_SET_IF_GENERATION = """
if (redis.call('GET', KEYS[2]) or '') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
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
        self._missed: set[str] = set()
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
            if self._missed:
                await self._resend_invalidations()
            return await fn()
        except (RedisError, OSError, TimeoutError) as exc:
            self._failed(what, exc)
            return default

    async def _resend_invalidations(self) -> None:
        keys = list(self._missed)
        await self._invalidate(keys=keys, args=[GENERATION_TTL_MS])
        self._missed.difference_update(keys)
        log.info("redis is back: sent %d invalidations missed while it was down", len(keys))

    # -- cache ---------------------------------------------------------------------------

    async def get(self, key: str) -> tuple[str | None, str]:
        """The cached value (or None) and the generation to pass to `put`."""

        async def fetch() -> tuple[str | None, str]:
            # decode_responses=True: values come back as str (the stubs allow bytes too)
            value, generation = cast("list[str | None]",
                                     await self.client.mget(key, f"{key}:gen"))
            return value, generation or ""

        return await self._call("get", fetch, (None, "-"))

    async def put(self, key: str, value: str, generation: str, ttl_ms: int) -> None:
        if generation == "-":  # read while Redis was unavailable: do not write
            return

        async def write() -> None:
            await self._set_if_generation(
                keys=[key, f"{key}:gen"], args=[generation, value, ttl_ms]
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
            if self._missed:
                await self._resend_invalidations()
            await self._invalidate(keys=keys, args=[GENERATION_TTL_MS])
        except (RedisError, OSError, TimeoutError) as exc:
            self._failed("invalidate", exc)
            if len(self._missed) < MAX_REMEMBERED_INVALIDATIONS:
                self._missed.update(keys)
            else:
                log.error("too many invalidations missed while redis was down; "
                          "cached values may be stale for up to their TTL")

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

    def __init__(self, store: RedisStore, key: Callable[[int], str], ttl_seconds: int,
                 load: Callable[[int], Awaitable[_T]], *, encode: Callable[[_T], object],
                 decode: Callable[[int, Any], _T]) -> None:
        self.store = store
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


def cached_messages(message: type[_M], store: RedisStore, key: Callable[[int], str],
                    ttl_seconds: int, load: Callable[[int], Awaitable[_M]]) -> CachedById[_M]:
    """A CachedById of flat protobuf messages, held as convert.to_json's JSON."""
    return CachedById(store, key, ttl_seconds, load, encode=convert.to_json,
                      decode=lambda _, cached: convert.from_json(message, cached))
