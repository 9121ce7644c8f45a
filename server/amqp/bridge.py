"""The AMQP bridge's composition root: the shop's handlers behind four queues, and the
report outbox published to a fifth.

Each message is one call of an RPC handler (server/domains/shop.py), made as the gRPC
server makes it, with the message's `message_id` as its idempotency key in the scope
`amqp:<queue>`: the handler's SQL function records the key with the write in one
transaction, so a redelivered or repeated message is answered from that record and
changes nothing twice. A message is acknowledged only after its transaction committed
(or was found recorded). Then:
- a refusal that retrying cannot change (not JSON, a wrong shape, a broken rule) parks
  the message in `<queue>.dead`, with the reason in its headers;
- a transient failure (database unavailable, a deadlock, a timeout) puts it back on the
  queue after a backoff that grows while failures go on;
- a message with `reply_to` gets the outcome there, with its `correlation_id`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aio_pika
import asyncpg
import grpc
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from google.protobuf.message import Message
from tally.shop.v1 import shop_pb2 as pb

from ..core import db, errors, idempotency, limits, metrics
from ..core.cache import RedisStore
from ..core.config import Settings
from ..core.context import App
from ..core.idempotency import MessageCall
from ..domains import shop
from . import messages

log = logging.getLogger("tally.amqp")

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
# Failures that may pass: the message goes back on its queue, after a backoff.
TRANSIENT = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.ABORTED,
                       grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED})
# Header values of a dead letter are cut to this many characters.
HEADER_TEXT = 500


@dataclass(frozen=True)
class BridgeSettings:
    """AMQP_* variables (README lists them); the database and Redis come from Settings."""

    amqp_url: str = DEFAULT_AMQP_URL
    prefetch: int = 64
    metrics_addr: str = "127.0.0.1:9465"
    report_queue: str = "report"
    report_poll_seconds: float = 30.0
    max_backoff_seconds: float = 10.0
    grace_seconds: float = 10.0

    @classmethod
    def from_env(cls) -> BridgeSettings:
        env = os.environ

        def number(name: str, default: float) -> float:
            raw = env.get(name) or ""
            try:
                return float(raw) if raw else default
            except ValueError:
                raise SystemExit(f"{name} must be a number, got {raw!r}") from None

        prefetch = int(number("AMQP_PREFETCH", 64))
        if not 1 <= prefetch <= 65535:
            raise SystemExit("AMQP_PREFETCH must be 1 to 65535")
        return cls(
            amqp_url=env.get("AMQP_URL") or DEFAULT_AMQP_URL,
            prefetch=prefetch,
            metrics_addr=env.get("AMQP_METRICS_ADDR", "127.0.0.1:9465"),
            report_queue=env.get("AMQP_REPORT_QUEUE") or "report",
            report_poll_seconds=max(0.1, number("AMQP_REPORT_POLL_SECONDS", 30.0)),
            max_backoff_seconds=max(0.1, number("AMQP_MAX_BACKOFF_SECONDS", 10.0)),
            grace_seconds=number("GRACE_SECONDS", 10.0),
        )


def _with_reconnect_interval(url: str, seconds: float = 1.0) -> str:
    """The URL with aio-pika's reconnect_interval, unless it sets one (default 5 s)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("reconnect_interval", str(seconds))
    return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass
class Route:
    """A request queue: the request it carries, the handler that serves it, and whether
    its messages apply one at a time in delivery order (updates of one row must apply in
    the order they were sent; creations need not, and concurrent orders share commits)."""

    queue: str
    request_type: type[Message]
    handler: Callable[[Any, MessageCall], Awaitable[Message]]
    ordered: bool
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def dead_queue(self) -> str:
        return f"{self.queue}.dead"


class Bridge:
    def __init__(self, app: App, settings: BridgeSettings) -> None:
        self.app = app
        self.settings = settings
        products = shop.ProductService(app)
        orders = shop.OrderService(app)
        self.routes = [
            Route("product", pb.CreateProductRequest, products.CreateProduct, ordered=False),
            Route("product_update", pb.UpdateProductRequest, self._update_product(products),
                  ordered=True),
            Route("order", pb.CreateOrderRequest, orders.CreateOrder, ordered=False),
            Route("order_update", pb.UpdateOrderStatusRequest, orders.UpdateOrderStatus,
                  ordered=True),
        ]
        self._checks = {r.queue: limits.checker(r.request_type) for r in self.routes}
        self._failures = 0
        self._inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._connection: AbstractRobustConnection | None = None
        self._publisher: AbstractChannel | None = None
        self._consumers: list[tuple[AbstractQueue, str]] = []
        self._stopping = False

    @staticmethod
    def _update_product(products: shop.ProductService
                        ) -> Callable[[Any, MessageCall], Awaitable[Message]]:
        async def update(request: pb.UpdateProductRequest, call: MessageCall) -> pb.Product:
            product = await products.UpdateProduct(request, call)
            if product.stock_quantity == 0:  # as the original's worker does
                log.warning("product out of stock", extra={"product_id": product.id})
            return product
        return update

    async def start(self) -> None:
        connection = await aio_pika.connect_robust(
            _with_reconnect_interval(self.settings.amqp_url),
            client_properties={"connection_name": "tally-amqp-bridge"})
        connection.reconnect_callbacks.add(self._reconnected)
        connection.close_callbacks.add(self._closed)
        self._connection = connection
        self._publisher = await connection.channel(publisher_confirms=True)
        for route in self.routes:
            await self._publisher.declare_queue(route.dead_queue, durable=True)
        await self._publisher.declare_queue(self.settings.report_queue, durable=True)
        consumer = await connection.channel()
        await consumer.set_qos(prefetch_count=self.settings.prefetch)
        for route in self.routes:
            queue = await consumer.declare_queue(route.queue, durable=True)
            tag = await queue.consume(self._consumer(route), no_ack=False)
            self._consumers.append((queue, tag))
        metrics.AMQP_CONSUMING.set(1)
        log.info("consuming", extra={"queues": [r.queue for r in self.routes],
                                     "prefetch": self.settings.prefetch})

    def _reconnected(self, *_: object) -> None:
        metrics.AMQP_CONSUMING.set(1)
        log.warning("reconnected to the broker")

    def _closed(self, _connection: object, exc: BaseException | None = None) -> None:
        metrics.AMQP_CONSUMING.set(0)
        if exc is not None and not self._stopping:
            log.warning("connection to the broker lost: %r", exc)

    def _consumer(self, route: Route) -> Callable[[AbstractIncomingMessage], Awaitable[None]]:
        async def consume(message: AbstractIncomingMessage) -> None:
            self._inflight += 1
            self._idle.clear()
            try:
                if route.ordered:
                    async with route.lock:
                        await self._handle(route, message)
                else:
                    await self._handle(route, message)
            finally:
                self._inflight -= 1
                if self._inflight == 0:
                    self._idle.set()
        return consume

    async def _handle(self, route: Route, message: AbstractIncomingMessage) -> None:
        try:
            request = messages.decode(route.request_type, message.body)
            if not message.message_id:
                raise errors.invalid_argument(
                    "message_id", "message_id is required: it is the idempotency key",
                    "MESSAGE_ID_REQUIRED")
            check = self._checks[route.queue]
            if check is not None:
                check(request)
            response = await route.handler(request, MessageCall(
                message.message_id, f"amqp:{route.queue}"))
        except Exception as exc:
            await idempotency.remember_failure(self.app.pool, exc)
            err = errors.to_rpc_error(exc)
            if err.code in TRANSIENT:
                await self._requeue(route, message, err)
            else:
                await self._refuse(route, message, err)
            return
        self._failures = 0
        try:
            await self._reply(message, messages.ok_body(response), "ok")
            await message.ack()
        except Exception as exc:  # the broker will deliver it again; its record answers then
            log.warning("could not finish a message", extra={
                "queue": route.queue, "message_id": message.message_id, "error": repr(exc)})
            return
        metrics.AMQP_MESSAGES.labels(route.queue, "applied").inc()

    async def _requeue(self, route: Route, message: AbstractIncomingMessage,
                       err: errors.RpcError) -> None:
        self._failures += 1
        delay = min(self.settings.max_backoff_seconds, 0.1 * 2 ** min(self._failures, 10))
        log.warning("transient failure, requeued", extra={
            "queue": route.queue, "message_id": message.message_id, "code": err.code.name,
            "reason": err.reason, "backoff_s": delay})
        await asyncio.sleep(delay)
        with contextlib.suppress(Exception):  # a lost channel requeues it anyway
            await message.nack(requeue=True)
        metrics.AMQP_MESSAGES.labels(route.queue, "requeued").inc()

    async def _refuse(self, route: Route, message: AbstractIncomingMessage,
                      err: errors.RpcError) -> None:
        log.warning("message dead-lettered", extra={
            "queue": route.queue, "message_id": message.message_id, "code": err.code.name,
            "reason": err.reason, "error": err.message})
        headers: dict[str, Any] = dict(message.headers or {})
        headers.update({"x-tally-queue": route.queue, "x-tally-code": err.code.name,
                        "x-tally-reason": err.reason,
                        "x-tally-message": err.message[:HEADER_TEXT]})
        if err.field:
            headers["x-tally-field"] = err.field
        assert self._publisher is not None
        try:
            await self._reply(message, messages.error_body(err), "error")
            await self._publisher.default_exchange.publish(
                aio_pika.Message(message.body, headers=headers,
                                 content_type=message.content_type,
                                 message_id=message.message_id,
                                 correlation_id=message.correlation_id,
                                 delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=route.dead_queue)
            await message.ack()
        except Exception as exc:  # not parked: the broker delivers it again
            log.warning("could not dead-letter a message", extra={
                "queue": route.queue, "message_id": message.message_id, "error": repr(exc)})
            return
        metrics.AMQP_MESSAGES.labels(route.queue, "dead_lettered").inc()
        metrics.AMQP_DEAD_LETTERS.labels(route.queue, err.reason).inc()

    async def _reply(self, message: AbstractIncomingMessage, body: bytes, outcome: str) -> None:
        if not message.reply_to:
            return
        assert self._publisher is not None
        try:
            await self._publisher.default_exchange.publish(
                aio_pika.Message(body, content_type="application/json",
                                 correlation_id=message.correlation_id,
                                 headers={"x-tally-outcome": outcome}),
                routing_key=message.reply_to, mandatory=False)
        except aio_pika.exceptions.DeliveryError as exc:
            log.warning("reply not delivered", extra={"reply_to": message.reply_to,
                                                      "error": repr(exc)})

    async def publish_reports(self, stop: asyncio.Event) -> None:
        """Publish the report outbox to the report queue until `stop`: each summary once,
        recorded in the database after the broker confirmed it. Runs as tally_jobs, on a
        connection of its own that also LISTENs for new summaries."""
        delay = 0.5
        while not stop.is_set():
            try:
                await self._publish_reports(stop)
            except Exception as exc:
                log.warning("report publishing failed, retrying in %.1f s: %r", delay, exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                delay = min(delay * 2, self.settings.max_backoff_seconds)
            else:
                delay = 0.5

    async def _publish_reports(self, stop: asyncio.Event) -> None:
        queue = self.settings.report_queue
        wake = asyncio.Event()
        conn = await asyncpg.connect(self.app.settings.jobs_database_url, server_settings={
            "application_name": "tally-amqp-reports"})
        try:
            # One publisher per report queue at a time (a second bridge waits its turn):
            # two would publish each summary twice.
            while not await conn.fetchval("select pg_try_advisory_lock(hashtext($1))",
                                          f"tally.amqp.reports:{queue}"):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.report_poll_seconds)
                if stop.is_set():
                    return
            await conn.add_listener(shop.NOTIFY_CHANNEL, lambda *_: wake.set())
            assert self._publisher is not None
            while not stop.is_set():
                wake.clear()
                for outbox_id, summary in await shop.reports_to_publish(conn, queue, []):
                    await self._publisher.default_exchange.publish(
                        aio_pika.Message(json.dumps(summary).encode(),
                                         content_type="application/json",
                                         message_id=str(outbox_id), type="report_summary",
                                         delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                        routing_key=queue)
                    # Confirmed by the broker: record it before the next one.
                    await shop.reports_to_publish(conn, queue, [outbox_id], 1)
                    metrics.AMQP_REPORTS_PUBLISHED.inc()
                    log.info("report summary published", extra={
                        "outbox_id": outbox_id, "report_date": summary["report_date"]})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_either(wake, stop), self.settings.report_poll_seconds)
        finally:
            conn.terminate()

    async def stop(self) -> None:
        """Stop taking messages, let those in hand finish (up to the grace period), then
        close: what was not acknowledged goes back to its queue."""
        self._stopping = True
        for queue, tag in self._consumers:
            with contextlib.suppress(Exception):
                await queue.cancel(tag)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), self.settings.grace_seconds)
        metrics.AMQP_CONSUMING.set(0)
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()


async def _either(a: asyncio.Event, b: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(a.wait()), asyncio.ensure_future(b.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


async def run(settings: Settings, bridge_settings: BridgeSettings) -> None:
    """Run the bridge until SIGTERM/SIGINT."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    pool = await db.connect(settings, log, name="tally-amqp-bridge")
    redis = RedisStore(settings.redis_url, timeout=settings.redis_timeout)
    app = App(settings=settings, pool=pool, redis=redis)
    bridge = Bridge(app, bridge_settings)
    metrics.serve(bridge_settings.metrics_addr)
    await _until_connected(bridge, stop)
    reports = app.spawn(bridge.publish_reports(stop), "amqp-reports")
    await stop.wait()
    log.info("shutting down")
    await bridge.stop()
    for hook in app._shutdown_hooks:
        try:
            await hook()
        except Exception:
            log.exception("shutdown hook failed")
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await asyncio.wait_for(reports, 2.0)
    await pool.close()
    await redis.close()
    log.info("stopped")


async def _until_connected(bridge: Bridge, stop: asyncio.Event) -> None:
    delay = 0.2
    while not stop.is_set():
        try:
            await bridge.start()
            return
        except (OSError, aio_pika.exceptions.AMQPError) as exc:
            log.warning("waiting for the broker: %r", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, 2.0)
