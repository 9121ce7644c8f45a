"""API keys and scopes on every tally RPC, against a real server that requires them.

The server here listens on 0.0.0.0 with AUTH unset: keys are required because it is not
on a loopback address (the default this proves). Each attack gets its own test: no key,
a malformed header, an unknown key, a wrong secret for a real key's id, a revoked key
(refused within AUTH_CACHE_SECONDS), a key without the scope, and a rate-limited caller
renaming itself with x-client-id. Health and reflection stay open.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from tally.booking.v1 import booking_pb2, booking_pb2_grpc
from tally.clicks.v1 import clicks_pb2
from tally.segments.v1 import segments_pb2
from tally.shop.v1 import shop_pb2

from server.app import RPC_ACCESS
from server.core.auth import required_scope
from server.core.config import Settings
from server.core.rpc import Registrar
from tests.support import (
    ServerProcess,
    bearer,
    create_api_key,
    free_port,
    reason_of,
    revoke_api_key,
    status_details,
)

CACHE_SECONDS = 2.0
BOOKING = "tally.booking.v1.BookingService"
CLICKS = "tally.clicks.v1.ClickService"


def descriptor_rpcs() -> list[tuple[str, str, bool]]:
    """(service, method, server-streaming) for every RPC the protos declare."""
    found = []
    for module in (booking_pb2, clicks_pb2, segments_pb2, shop_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                found.append((service.full_name, method.name, method.server_streaming))
    return found


RPCS = descriptor_rpcs()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def secured(database_url, redis_client):
    proc = ServerProcess(database_url, RATE_LIMIT_MAX="3", RATE_LIMIT_TIME_WINDOW="60000",
                         AUTH_CACHE_SECONDS=str(CACHE_SECONDS))
    proc.env.pop("AUTH", None)
    # Every address, so AUTH defaults to required; a port free on all of them, so no
    # other test server can answer at 127.0.0.1 on it.
    proc.port = free_port("0.0.0.0")
    proc.addr = f"127.0.0.1:{proc.port}"
    proc.env["GRPC_ADDR"] = f"0.0.0.0:{proc.port}"
    proc.start()
    yield proc
    assert proc.stop() == 0


async def call(addr: str, service: str, method: str, streaming: bool,
               metadata: tuple[tuple[str, str], ...] | None = None) -> grpc.StatusCode:
    """One call with an empty request; the status it ends with (auth comes first)."""
    async with grpc.aio.insecure_channel(addr) as ch:
        path = f"/{service}/{method}"
        try:
            if streaming:
                async for _ in ch.unary_stream(path)(b"", metadata=metadata, timeout=10):
                    pass
            else:
                await ch.unary_unary(path)(b"", metadata=metadata, timeout=10)
        except grpc.aio.AioRpcError as err:
            if err.code() in (grpc.StatusCode.UNAUTHENTICATED,
                              grpc.StatusCode.PERMISSION_DENIED):
                raise
            return err.code()
    return grpc.StatusCode.OK


def test_every_rpc_is_classified_read_or_write():
    declared = {(s, m) for s, m, _ in RPCS}
    classified = {(s, m) for s, methods in RPC_ACCESS.items() for m in methods}
    assert declared == classified, (declared ^ classified)
    for service, methods in RPC_ACCESS.items():
        for access in methods.values():
            assert required_scope(service, access).split(":")[1] in ("read", "write")


async def test_an_unclassified_rpc_is_refused_at_registration():
    server = grpc.aio.server()
    partial = {s: dict(m) for s, m in RPC_ACCESS.items()}
    del partial[BOOKING]["ReserveSeat"]
    registrar = Registrar(server, None, frozenset(), access=partial)
    with pytest.raises(RuntimeError, match="ReserveSeat is not classified"):
        booking_pb2_grpc.add_BookingServiceServicer_to_server(
            booking_pb2_grpc.BookingServiceServicer(), registrar.as_server())


@pytest.mark.parametrize(("addr", "auth", "required"), [
    ("127.0.0.1:50051", "", False), ("[::1]:50051", "", False),
    ("localhost:50051", "", False), ("0.0.0.0:50051", "", True), ("[::]:50051", "", True),
    ("10.0.0.5:50051", "", True), ("tally.internal:50051", "", True),
    ("0.0.0.0:50051", "off", False), ("127.0.0.1:50051", "required", True),
])
def test_auth_default_follows_the_listen_address(monkeypatch, addr, auth, required):
    monkeypatch.setenv("GRPC_ADDR", addr)
    monkeypatch.setenv("AUTH", auth)
    assert Settings.from_env().auth_required is required


def test_auth_setting_is_checked(monkeypatch):
    monkeypatch.setenv("AUTH", "optional")
    with pytest.raises(SystemExit, match="AUTH must be one of required, off"):
        Settings.from_env()


async def test_no_key_is_unauthenticated_on_every_rpc(secured):
    for service, method, streaming in RPCS:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(secured.addr, service, method, streaming)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED, (service, method)
        assert reason_of(caught.value) == "API_KEY_MISSING"


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "tally_x"])
async def test_a_malformed_authorization_is_unauthenticated(secured, header):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(secured.addr, BOOKING, "ListEvents", False, (("authorization", header),))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert reason_of(caught.value) == "API_KEY_INVALID"


async def test_unknown_and_forged_keys_are_unauthenticated(secured, database_url):
    real = create_api_key(database_url, unique("real"), ["*"])
    # The real key's id with another secret: the id alone opens nothing.
    forged = real[:-8] + ("0" * 8 if not real.endswith("0" * 8) else "1" * 8)
    # An overlong key (past the server's 256 characters), under gRPC's 8 KiB metadata
    # soft limit: past it gRPC itself refuses some calls, at random, RESOURCE_EXHAUSTED.
    for key in ("tally_000000000000_" + "0" * 64, forged, "x" * 4_000, real + "0"):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(secured.addr, BOOKING, "ListEvents", False, bearer(key))
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED, key[:40]
        assert reason_of(caught.value) == "API_KEY_INVALID"
    assert await call(secured.addr, BOOKING, "ListEvents", False, bearer(real)) \
        == grpc.StatusCode.OK


async def test_a_key_reaches_exactly_its_scopes(secured, database_url):
    key = create_api_key(database_url, unique("reader"), ["booking:read", "shop:write"])
    for service, method, streaming in RPCS:
        needed = required_scope(service, RPC_ACCESS[service][method])
        if needed in ("booking:read", "shop:write"):
            # Past authorization; an empty request may still be invalid, never refused.
            code = await call(secured.addr, service, method, streaming, bearer(key))
            assert code not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN)
            continue
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(secured.addr, service, method, streaming, bearer(key))
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED, (service, method)
        assert reason_of(caught.value) == "SCOPE_MISSING"
        assert status_details(caught.value)["ErrorInfo"].metadata["scope"] == needed


async def test_the_star_scope_reaches_everything(secured, database_url):
    key = create_api_key(database_url, unique("admin"), ["*"])
    async with grpc.aio.insecure_channel(secured.addr) as ch:
        stub = booking_pb2_grpc.BookingServiceStub(ch)
        event = await stub.CreateEvent(booking_pb2.CreateEventRequest(
            name="with a key", total_seats=2), metadata=bearer(key))
        booked = await stub.ReserveSeat(booking_pb2.ReserveSeatRequest(
            event_id=event.id, user_id="keyed"), metadata=bearer(key))
        assert booked.event_id == event.id


async def test_a_revoked_key_is_refused_within_the_cache_window(secured, database_url):
    # Clicks: not rate limited, so the polling below meets no limit.
    name = unique("leaving")
    key = create_api_key(database_url, name, ["clicks:read"])
    assert await call(secured.addr, CLICKS, "ListBanners", False, bearer(key)) \
        == grpc.StatusCode.OK  # now cached as live
    revoke_api_key(database_url, name)
    revoked = time.monotonic()
    # Still answered from the cache: the server did not ask PostgreSQL on this call.
    assert await call(secured.addr, CLICKS, "ListBanners", False, bearer(key)) \
        == grpc.StatusCode.OK
    while True:
        try:
            await call(secured.addr, CLICKS, "ListBanners", False, bearer(key))
        except grpc.aio.AioRpcError as err:
            assert err.code() == grpc.StatusCode.UNAUTHENTICATED
            assert reason_of(err) == "API_KEY_INVALID"
            break
        assert time.monotonic() - revoked < CACHE_SECONDS + 1.0, "revoked key still works"
        await asyncio.sleep(0.05)
    assert time.monotonic() - revoked <= CACHE_SECONDS + 1.0


async def test_renaming_the_client_does_not_escape_the_rate_limit(secured, database_url):
    key = create_api_key(database_url, unique("greedy"), ["booking:read"])
    codes = []
    for n in range(6):
        metadata = (*bearer(key), ("x-client-id", f"fresh-name-{n}"))
        try:
            codes.append(await call(secured.addr, BOOKING, "ListEvents", False, metadata))
        except grpc.aio.AioRpcError as err:
            codes.append(err.code())
    assert codes == [grpc.StatusCode.OK] * 3 + [grpc.StatusCode.RESOURCE_EXHAUSTED] * 3
    # Another key has a window of its own.
    other = create_api_key(database_url, unique("patient"), ["booking:read"])
    assert await call(secured.addr, BOOKING, "ListEvents", False, bearer(other)) \
        == grpc.StatusCode.OK


async def test_health_and_reflection_need_no_key(secured):
    async with grpc.aio.insecure_channel(secured.addr) as ch:
        reply = await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest())
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        async for answer in stub.ServerReflectionInfo(iter([request])):
            names = {s.name for s in answer.list_services_response.service}
            assert BOOKING in names
            break


def test_grpcurl_lists_services_without_a_key(secured):
    grpcurl = shutil.which("grpcurl", path=str(Path(sys.executable).parent))
    assert grpcurl
    listed = subprocess.run([grpcurl, "-plaintext", secured.addr, "list"],
                            capture_output=True, text=True, timeout=30)
    assert listed.returncode == 0 and BOOKING in listed.stdout, listed.stderr


def test_grpcurl_with_a_key(secured, database_url):
    """README's form: -H 'authorization: Bearer <key>'."""
    key = create_api_key(database_url, unique("grpcurl"), ["booking:read"])
    grpcurl = shutil.which("grpcurl", path=str(Path(sys.executable).parent))
    assert grpcurl
    base = [grpcurl, "-plaintext", "-d", '{"page_size": 1}']
    path = [secured.addr, f"{BOOKING}/ListEvents"]
    ok = subprocess.run([*base, "-H", f"authorization: Bearer {key}", *path],
                        capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stderr
    refused = subprocess.run([*base, *path], capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0 and "Unauthenticated" in refused.stderr, refused.stderr
