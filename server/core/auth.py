"""API keys on tally's RPCs: who is calling (authentication) and whether the key may make
this call (its scopes). Keys live in PostgreSQL (tally.api_keys, created by operators);
the server may only ask `tally.authenticate_api_key(key)` for a live key's id and scopes.

Registrar (rpc.py) checks every tally call here once, before the rate limit. A verified
answer, and an unknown key's, is kept in process for AUTH_CACHE_SECONDS, so a call costs
a dict lookup, not a round trip to PostgreSQL, and a revoked key stops working within
that time. Health and reflection are not tally services: they stay open.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import asyncpg
import grpc

from . import errors

if TYPE_CHECKING:
    _Context = grpc.aio.ServicerContext[Any, Any]

READ = "read"
WRITE = "write"
ACCESS_KINDS = (READ, WRITE)
ALL_SCOPES = "*"
AUTHORIZATION_METADATA = "authorization"
# Longer than any key tally issues (70 characters): refused without asking PostgreSQL.
_MAX_KEY_LENGTH = 256


def required_scope(service: str, access: str) -> str:
    """The scope a call needs: '<domain>:<access>', the domain from 'tally.<domain>.v1.X'."""
    parts = service.split(".")
    if len(parts) != 4 or parts[0] != "tally" or access not in ACCESS_KINDS:
        raise ValueError(f"cannot derive a scope for {service!r} ({access!r}): services are "
                         "named tally.<domain>.v<N>.<Service>, access is read or write")
    return f"{parts[1]}:{access}"


@dataclass(frozen=True, slots=True)
class Principal:
    """A live API key: its id (what rate limits count by) and scopes."""

    key_id: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or ALL_SCOPES in self.scopes


def _unauthenticated(message: str, reason: str) -> errors.RpcError:
    return errors.RpcError(grpc.StatusCode.UNAUTHENTICATED, message, reason)


def bearer_token(context: _Context) -> str:
    """The key in metadata `authorization: Bearer <key>`."""
    for key, value in context.invocation_metadata() or ():
        if key == AUTHORIZATION_METADATA:
            scheme, _, token = str(value).partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                raise _unauthenticated("authorization must be 'Bearer <API key>'",
                                       "API_KEY_INVALID")
            return token
    raise _unauthenticated("an API key is required: metadata 'authorization: Bearer <key>'",
                           "API_KEY_MISSING")


class Authenticator:
    """Checks calls' API keys against PostgreSQL, keeping answers for `ttl` seconds."""

    def __init__(self, pool: asyncpg.Pool, ttl: float, max_entries: int = 10_000) -> None:
        self.pool = pool
        self.ttl = ttl
        self.max_entries = max_entries
        # key -> (principal, or None for an unknown or revoked key; monotonic expiry)
        self._entries: dict[str, tuple[Principal | None, float]] = {}
        self._inflight: dict[str, asyncio.Future[Principal | None]] = {}

    async def check(self, context: _Context, scope: str) -> Principal:
        """The caller's key, if it is live and has `scope`; else UNAUTHENTICATED or
        PERMISSION_DENIED."""
        token = bearer_token(context)
        entry = self._entries.get(token)
        if entry is not None and entry[1] > time.monotonic():
            principal = entry[0]
        else:
            principal = await self._lookup(token)
        if principal is None:
            raise _unauthenticated("unknown or revoked API key", "API_KEY_INVALID")
        if not principal.allows(scope):
            raise errors.RpcError(grpc.StatusCode.PERMISSION_DENIED,
                                  f"this API key lacks the scope {scope}", "SCOPE_MISSING",
                                  metadata={"scope": scope})
        return principal

    async def _lookup(self, token: str) -> Principal | None:
        if len(token) > _MAX_KEY_LENGTH:
            return None
        # Concurrent calls with the same uncached key share one query.
        pending = self._inflight.get(token)
        if pending is None:
            pending = asyncio.ensure_future(self._fetch(token))
            self._inflight[token] = pending
            pending.add_done_callback(lambda done: self._forget(token, done))
        return await asyncio.shield(pending)

    def _forget(self, token: str, done: asyncio.Future[Principal | None]) -> None:
        self._inflight.pop(token, None)
        if not done.cancelled():
            done.exception()  # retrieved here, whether or not a caller is still waiting

    async def _fetch(self, token: str) -> Principal | None:
        asked = time.monotonic()  # the answer is as old as the question, not the reply
        row = await self.pool.fetchrow(
            "select key_id, scopes from tally.authenticate_api_key($1)", token)
        principal = None if row is None else Principal(row["key_id"], frozenset(row["scopes"]))
        if self.ttl > 0:
            if len(self._entries) >= self.max_entries:
                self._prune()
            self._entries[token] = (principal, asked + self.ttl)
        return principal

    def _prune(self) -> None:
        now = time.monotonic()
        for token in [t for t, (_, expires) in self._entries.items() if expires <= now]:
            del self._entries[token]
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
