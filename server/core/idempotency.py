"""Idempotency keys: the metadata `idempotency-key` of a write call, and its scope.

Every covered write handler asks `key_and_scope(context)` and passes both to its SQL
function, which records the key with the write in one transaction and answers a retry
with the recorded outcome (sql/tally/10__idempotent_*.sql). Keys are scoped per
caller: the API key's id when keys are required, '' (shared) when auth is off. A call that
comes as an AMQP message (server/amqp) carries its message_id as the key, in a scope of its
own queue: a `MessageCall` stands in for the gRPC context.

A keyed single call that fails with a domain error rolls back, its key with it; the error
names the key, with a token, in its HINT (tally.raise_error). `remember_failure` records
that failure against the key afterwards, so that a retry is answered with the same error
rather than run again. Batched writes record their items' errors with the write itself.
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import asyncpg

from . import errors

if TYPE_CHECKING:
    import grpc

    from .auth import Principal

    _Context = grpc.aio.ServicerContext[Any, Any]

log = logging.getLogger("tally.idempotency")

IDEMPOTENCY_METADATA = "idempotency-key"
_VALID = re.compile(r"[ -~]{1,128}")

# The authenticated caller of the call being served (set by rpc.py when keys are required).
CALLER: ContextVar[Principal | None] = ContextVar("tally_caller", default=None)


class MessageCall:
    """The context of a call that came as a message rather than over gRPC: what a handler
    asks of its context (`key_and_scope`) answered from the message. `scope` keeps these
    keys apart from every gRPC caller's (API key ids and '' never contain ':')."""

    __slots__ = ("key", "scope")

    def __init__(self, key: str, scope: str) -> None:
        self.key = key
        self.scope = scope

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return ((IDEMPOTENCY_METADATA, self.key),)


def _checked(value: object) -> str:
    if not isinstance(value, str) or _VALID.fullmatch(value) is None:
        raise errors.invalid_argument(
            IDEMPOTENCY_METADATA, "idempotency-key must be 1 to 128 printable ASCII characters",
            "IDEMPOTENCY_KEY_INVALID")
    return value


def key_and_scope(context: _Context | MessageCall) -> tuple[str | None, str]:
    """The call's idempotency key (None without one) and its scope. A key that is not
    1-128 printable ASCII characters is INVALID_ARGUMENT, reason IDEMPOTENCY_KEY_INVALID."""
    if isinstance(context, MessageCall):
        return _checked(context.key), context.scope
    for name, value in context.invocation_metadata() or ():
        if name == IDEMPOTENCY_METADATA:
            caller = CALLER.get()
            return _checked(value), "" if caller is None else caller.key_id
    return None, ""


async def remember_failure(pool: asyncpg.Pool, exc: BaseException) -> None:
    """After a call failed with `exc`: if it is a keyed single call's domain error (its HINT
    names the key, see tally.raise_error), record the failure against the key
    (tally.remember_failure), one more round trip on this path only. Best effort: when it
    cannot be recorded (the database went away), a retry with the key runs again."""
    if not isinstance(exc, asyncpg.PostgresError):
        return
    hint = getattr(exc, "hint", None)
    if not hint or '"idempotency"' not in hint:
        return
    try:
        await pool.fetchval("select tally.remember_failure($1, $2, $3, $4, $5)",
                            exc.sqlstate, getattr(exc, "detail", None), exc.message,
                            getattr(exc, "column_name", None), hint)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as failed:
        log.warning("could not record a keyed call's failure; a retry will run again",
                    extra={"error": repr(failed), "sqlstate": exc.sqlstate})
