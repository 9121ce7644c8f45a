"""What every RPC goes through: API key check, request size limits, rate limit, error
mapping, metrics, one log line.

Each tally method handler is wrapped once, when its service is registered (see
`Registrar`), so servicers stay a few lines long: they raise, this module answers. Wrapping
at registration rather than in a grpc.aio interceptor matters for speed: an interceptor
is an extra coroutine on every call, about 40 us of CPU here, more than this module's own
work per call.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import grpc
from google.protobuf.message import DecodeError
from grpc.aio import AbortError

from . import errors, limits, metrics
from .auth import Authenticator, Principal, required_scope
from .cache import RedisStore
from .idempotency import CALLER

if TYPE_CHECKING:
    _Context = grpc.aio.ServicerContext[Any, Any]
    # types-grpcio describes the method handlers of the sync API; under grpc.aio a unary
    # behaviour is a coroutine function and a server-streaming one an async generator.
    _UnaryBehavior = Callable[[Any, _Context], Awaitable[Any]]
    _StreamBehavior = Callable[[Any, _Context], AsyncIterator[Any]]

log = logging.getLogger("tally.rpc")

CLIENT_ID_METADATA = "x-client-id"


class Malformed:
    """Stands in for a request whose bytes do not decode as the method's message, so the
    call is answered INVALID_ARGUMENT by the wrapper (gRPC would answer UNKNOWN)."""

    __slots__ = ("error",)

    def __init__(self, error: str) -> None:
        self.error = error


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None

    def deserialize(data: bytes) -> Any:
        try:
            return deserializer(data)
        except (DecodeError, ValueError, UnicodeDecodeError) as exc:
            return Malformed(str(exc) or type(exc).__name__)

    return deserialize


def _malformed(request: Malformed) -> errors.RpcError:
    return errors.RpcError(
        grpc.StatusCode.INVALID_ARGUMENT,
        f"the request is not a valid message for this method: {request.error}"[:300],
        "MALFORMED_REQUEST")


def _abandoned(context: _Context) -> grpc.StatusCode:
    """Why a call's handler was cancelled: its deadline passed, or the client gave up."""
    remaining = context.time_remaining()
    if remaining is not None and remaining <= 0:
        return grpc.StatusCode.DEADLINE_EXCEEDED
    return grpc.StatusCode.CANCELLED


def _peer_host(peer: str) -> str:
    """'ipv4:127.0.0.1:5555' -> 'ipv4:127.0.0.1' (the port changes with every connection)."""
    kind, _, address = peer.partition(":")
    if kind in ("ipv4", "ipv6"):
        host, _, _ = address.rpartition(":")
        return f"{kind}:{host}"
    return peer


class RateLimiter:
    """Fixed-window limit per client identity, counted in Redis (shared by all workers).

    The identity is the caller's API key when there is one. `x-client-id` is believed only
    when `trust_client_id` (auth off): with keys required, a caller naming itself anew on
    every call must not get a fresh window each time. Without either, the peer's address.
    """

    def __init__(self, store: RedisStore, max_calls: int, window_ms: int,
                 trust_client_id: bool = True) -> None:
        self.store = store
        self.max_calls = max_calls
        self.window_ms = window_ms
        self.trust_client_id = trust_client_id

    @property
    def enabled(self) -> bool:
        return self.max_calls > 0 and self.window_ms > 0

    async def check(self, context: _Context, principal: Principal | None = None) -> None:
        identity = None
        if principal is not None:
            identity = f"key:{principal.key_id}"
        elif self.trust_client_id:
            for key, value in context.invocation_metadata() or ():
                # str for every key but those ending in -bin (bytes)
                if key == CLIENT_ID_METADATA and isinstance(value, str) and value:
                    identity = f"id:{value}"
                    break
        if identity is None:
            identity = f"peer:{_peer_host(context.peer())}"
        result = await self.store.hit(f"tally:ratelimit:{identity}", self.window_ms)
        if result is None:  # Redis down: let the call through (logged by the store)
            return
        count, reset_ms = result
        if count > self.max_calls:
            raise errors.RpcError(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"rate limit of {self.max_calls} calls per {self.window_ms} ms exceeded;"
                f" retry in {reset_ms} ms",
                "RATE_LIMITED",
                details=[errors.retry_info(max(reset_ms, 1) / 1000)],
                metadata={"limit": str(self.max_calls), "window_ms": str(self.window_ms)},
            )


class Registrar:
    """Stands in for the grpc.aio.Server while the domains register their services.

    The generated `add_*Servicer_to_server` functions hand over the method handlers twice:
    as a generic handler and, by name, through `add_registered_method_handlers`. Each
    tally handler is wrapped (API key, rate limit, error mapping, metrics, log line) and
    both registrations go to the real server with the wrapped handlers. `check()` refuses
    a service that came only as a generic handler: it could not have been wrapped.

    `access` classifies every method as read or write ({service: {method: access}}); a
    method missing from it is refused at registration, whether or not keys are required,
    so a new RPC cannot be served before someone decided which scope it needs.

    `on_failure`, where given, is awaited with what a call raised before it is answered
    (the app records keyed calls' failures with it: idempotency.remember_failure).
    """

    def __init__(self, server: grpc.aio.Server, limiter: RateLimiter | None,
                 limited_services: frozenset[str], *,
                 access: Mapping[str, Mapping[str, str]],
                 authenticator: Authenticator | None = None,
                 on_failure: Callable[[BaseException], Awaitable[None]] | None = None) -> None:
        self._server = server
        self._on_failure = on_failure
        self._limiter = limiter if limiter is not None and limiter.enabled else None
        self._limited = limited_services
        self._access = access
        self._authenticator = authenticator
        self._generic: set[str] = set()
        self._registered: set[str] = set()

    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        for handler in handlers:
            name = handler.service_name() if isinstance(handler, grpc.ServiceRpcHandler) else None
            if name is None:
                raise TypeError(f"cannot register {handler!r}: not a service handler")
            self._generic.add(name)

    def add_registered_method_handlers(
            self, service: str, handlers: dict[str, grpc.RpcMethodHandler[Any, Any]]) -> None:
        wrapped = {name: self._wrap(service, name, handler)
                   for name, handler in handlers.items()}
        self._server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(service, wrapped),))
        self._server.add_registered_method_handlers(service, wrapped)
        self._registered.add(service)

    def as_server(self) -> grpc.aio.Server:
        """This registrar, as the type the generated `add_*Servicer_to_server` take.

        They call only `add_generic_rpc_handlers` and `add_registered_method_handlers`,
        which this class implements; their stubs ask for a whole server.
        """
        return cast(grpc.aio.Server, self)

    def check(self) -> None:
        missing = self._generic - self._registered
        if missing:
            raise RuntimeError(f"services registered without method handlers: {sorted(missing)}")

    def _wrap(self, service: str, name: str, handler: grpc.RpcMethodHandler[Any, Any]
              ) -> grpc.RpcMethodHandler[Any, Any]:
        label = f"{service.rsplit('.', 1)[-1]}.{name}"
        limiter = self._limiter if service in self._limited else None
        access = self._access.get(service, {}).get(name)
        if access is None:
            raise RuntimeError(f"/{service}/{name} is not classified read or write:"
                               " add it to the access table (server/app.py RPC_ACCESS)")
        scope = required_scope(service, access)
        authenticator = self._authenticator
        on_failure = self._on_failure
        # The request's size limits (server/core/limits.py), checked before the handler.
        within_limits = limits.checker(
            getattr(handler.request_deserializer, "__self__", None))
        counters: dict[grpc.StatusCode, Any] = {}
        seconds = metrics.RPC_SECONDS.labels(label)

        def count(code: grpc.StatusCode, started: float) -> None:
            counter = counters.get(code)
            if counter is None:
                counter = counters[code] = metrics.RPCS.labels(label, code.name)
            counter.inc()
            elapsed = time.perf_counter() - started
            seconds.observe(elapsed)
            if log.isEnabledFor(logging.DEBUG):
                log.debug("rpc", extra={"rpc": label, "code": code.name,
                                        "ms": round(elapsed * 1000, 2)})

        async def fail(context: _Context, exc: BaseException, started: float) -> None:
            """After the call raised `exc`: count and log it and answer it as an error (the
            abort raises). An abort already under way passes, and a call the client gave up
            (cancelled) is counted as such; the caller re-raises what returns."""
            if isinstance(exc, AbortError):
                return
            if isinstance(exc, asyncio.CancelledError):
                count(_abandoned(context), started)
                return
            if not isinstance(exc, Exception):
                return
            if on_failure is not None:
                await on_failure(exc)
            err = errors.to_rpc_error(exc)
            count(err.code, started)
            level = logging.ERROR if err.code in _SERVER_FAULTS else logging.WARNING
            log.log(level, "rpc failed", extra={
                "rpc": label, "code": err.code.name, "reason": err.reason,
                "sqlstate": err.sqlstate, "error": err.message})
            await context.abort_with_status(err.to_status())

        async def admit(request: Any, context: _Context) -> None:
            """Before the handler: the caller's key and scope (authentication comes first,
            so an unauthenticated caller learns nothing of the request), a request that
            decoded, the rate limit."""
            principal = (None if authenticator is None
                         else await authenticator.check(context, scope))
            if request.__class__ is Malformed:
                raise _malformed(request)
            if within_limits is not None:
                within_limits(request)
            if limiter is not None:
                await limiter.check(context, principal)
            if principal is not None:  # the scope of idempotency keys
                CALLER.set(principal)

        if handler.unary_unary is not None:
            behavior = cast("_UnaryBehavior", handler.unary_unary)

            async def unary_unary(request: Any, context: _Context) -> Any:
                started = time.perf_counter()
                try:
                    await admit(request, context)
                    response = await behavior(request, context)
                except BaseException as exc:
                    await fail(context, exc, started)
                    raise
                count(grpc.StatusCode.OK, started)
                return response

            return grpc.unary_unary_rpc_method_handler(
                unary_unary, _tolerant(handler.request_deserializer),
                handler.response_serializer)

        if handler.unary_stream is not None:
            stream_behavior = cast("_StreamBehavior", handler.unary_stream)

            async def unary_stream(request: Any, context: _Context) -> AsyncIterator[Any]:
                started = time.perf_counter()
                try:
                    await admit(request, context)
                    async for item in stream_behavior(request, context):
                        yield item
                except BaseException as exc:
                    await fail(context, exc, started)
                    raise
                count(grpc.StatusCode.OK, started)

            return grpc.unary_stream_rpc_method_handler(
                unary_stream, _tolerant(handler.request_deserializer),
                handler.response_serializer)
        raise TypeError(f"/{service}/{name}: only unary and server-streaming methods are supported")


_SERVER_FAULTS = frozenset({grpc.StatusCode.INTERNAL, grpc.StatusCode.UNAVAILABLE,
                            grpc.StatusCode.UNKNOWN, grpc.StatusCode.DATA_LOSS})


