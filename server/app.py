"""The composition root, the only module that imports the domains: one server process,
every domain's services on one port, plus health and reflection."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from functools import partial
from types import ModuleType

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection

from .core import db, idempotency, tls
from .core.auth import READ, WRITE, Authenticator
from .core.cache import CacheListener, RedisStore
from .core.config import Settings, is_loopback_addr
from .core.context import App
from .core.rpc import RateLimiter, Registrar
from .domains import booking, clicks, segments, shop
from .jobs import runner as jobrunner
from .jobs import shared as shared_jobs

log = logging.getLogger("tally.server")

# Each domain module has `add_services(server, app) -> list[str]` (the full service names
# it registered) and may declare `JOBS` (server/jobs/job.py). A new domain is one more entry.
DOMAINS: tuple[ModuleType, ...] = (booking, clicks, segments, shop)

# Services whose calls count against RATE_LIMIT_MAX per client.
RATE_LIMITED_SERVICES = frozenset({"tally.booking.v1.BookingService"})

# Every RPC, read or write: with AUTH=required a call needs an API key with the scope
# <domain>:<access> (the domain from the service's package, tally.<domain>.v1) or `*`.
# Read: answers without changing anything. An RPC missing here is refused at start-up.
RPC_ACCESS: dict[str, dict[str, str]] = {
    "tally.booking.v1.BookingService": {
        "CreateEvent": WRITE, "GetEvent": READ, "ListEvents": READ, "ReserveSeat": WRITE,
        "GetBooking": READ, "CancelBooking": WRITE, "GetUserBookingStats": READ,
    },
    "tally.clicks.v1.ClickService": {
        "CreateBanner": WRITE, "GetBanner": READ, "ListBanners": READ,
        "RecordClick": WRITE, "RecordClicks": WRITE, "GetStats": READ,
    },
    "tally.segments.v1.SegmentService": {
        "CreateUser": WRITE, "DeleteUser": WRITE, "CreateSegment": WRITE,
        "DeleteSegment": WRITE, "UpdateUserSegments": WRITE, "GetUserSegments": READ,
        "ExportHistory": READ,
    },
    "tally.shop.v1.UserService": {
        "CreateUser": WRITE, "GetUser": READ, "ListUsers": READ, "UpdateUser": WRITE,
        "DeleteUser": WRITE, "AddAddress": WRITE, "ListAddresses": READ,
    },
    "tally.shop.v1.ProductService": {
        "CreateCategory": WRITE, "ListCategories": READ, "CreateProduct": WRITE,
        "GetProduct": READ, "ListProducts": READ, "UpdateProduct": WRITE,
        "DeleteProduct": WRITE,
    },
    "tally.shop.v1.OrderService": {
        "CreateOrder": WRITE, "GetOrder": READ, "ListOrders": READ,
        "UpdateOrderStatus": WRITE, "GetSalesStatistics": READ,
    },
    "tally.shop.v1.ReportService": {"GetReports": READ, "WatchReports": READ},
}


async def _watch_health(app: App, health: health_aio.HealthServicer, names: list[str]) -> None:
    """SERVING for every service while the database answers, NOT_SERVING otherwise.

    The probe runs as a task of its own and is judged by whether it finished in time,
    not by cancelling it: a pool busy reconnecting to a database that refuses
    connections may not give up promptly when cancelled, and health must not wait on it.
    """
    serving: bool | None = None
    probe: asyncio.Task[object] | None = None
    try:
        while True:
            try:
                if probe is None or probe.done():
                    probe = asyncio.ensure_future(app.pool.fetchval("select 1"))
                done, _ = await asyncio.wait({probe}, timeout=2.0)
                ok = bool(done) and probe.exception() is None
                if not ok and serving is not False:
                    reason = probe.exception() if done else "no answer within 2 s"
                    log.error("database check failed: %r", reason)
                if ok != serving:
                    status = (health_pb2.HealthCheckResponse.SERVING if ok
                              else health_pb2.HealthCheckResponse.NOT_SERVING)
                    for name in ["", *names]:
                        await health.set(name, status)
                    if serving is not None:
                        log.warning("health is now %s", "SERVING" if ok else "NOT_SERVING")
                    serving = ok
                db.record_pool_usage(app.pool)
            except Exception:  # the watcher must outlive anything it meets
                log.exception("health watcher")
            await asyncio.sleep(app.settings.health_interval)
    finally:
        if probe is not None and not probe.done():
            probe.cancel()


async def serve(settings: Settings, *, worker_index: int = 0, reuse_port: bool = False,
                stop: asyncio.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT (or `stop`), then shut down gracefully."""
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    pool = await db.connect(settings, log)
    redis = RedisStore(settings.redis_url, timeout=settings.redis_timeout)
    app = App(settings=settings, pool=pool, redis=redis, worker_index=worker_index)
    limiter = RateLimiter(redis, settings.rate_limit_max, settings.rate_limit_window_ms,
                          trust_client_id=not settings.auth_required)
    authenticator = (Authenticator(pool, settings.auth_cache_seconds)
                     if settings.auth_required else None)
    credentials = tls.server_credentials(settings)
    server = grpc.aio.server(options=[("grpc.so_reuseport", 1 if reuse_port else 0)])
    registrar = Registrar(server, limiter, RATE_LIMITED_SERVICES, access=RPC_ACCESS,
                          authenticator=authenticator,
                          on_failure=partial(idempotency.remember_failure, pool))
    names: list[str] = []
    for domain in DOMAINS:
        names.extend(domain.add_services(registrar, app))
    registrar.check()
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    reflection.enable_server_reflection(
        [*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
         reflection.SERVICE_NAME],
        server,
    )
    # The cache follows the database's announcements and serves nothing until it hears
    # them: take calls once the listener is up, or after 2 s without it (uncached, then).
    listener = CacheListener(redis, settings.app_database_url)
    app.spawn(listener.run(), "cache-listener")
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(listener.listening.wait(), timeout=2.0)
    if credentials is None:
        server.add_insecure_port(settings.grpc_addr)
        if settings.auth_required and not is_loopback_addr(settings.grpc_addr):
            log.warning("API keys are required but travel in plaintext: set TLS_CERT_FILE and"
                        " TLS_KEY_FILE, or terminate TLS in front of this server")
    else:
        server.add_secure_port(settings.grpc_addr, credentials)
    await server.start()
    watcher = app.spawn(_watch_health(app, health, names), "health")
    if settings.jobs and worker_index == 0:  # one runner per replica (--no-jobs: none)
        await jobrunner.start(app, (*DOMAINS, shared_jobs))
    log.info("serving", extra={
        "addr": settings.grpc_addr, "services": names, "worker": worker_index,
        "auth": "required" if settings.auth_required else "off",
        "tls": "mtls" if settings.tls_client_ca_file else "on" if credentials else "off"})

    await stop.wait()
    log.info("shutting down", extra={"grace_s": settings.grace_seconds})
    watcher.cancel()
    await health.enter_graceful_shutdown()
    await server.stop(settings.grace_seconds)
    for hook in app._shutdown_hooks:
        try:
            await hook()
        except Exception:
            log.exception("shutdown hook failed")
    for task in list(app._background):
        task.cancel()
    for task in list(app._background):
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    await pool.close()
    await redis.close()
    log.info("stopped")
