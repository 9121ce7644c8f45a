"""TLS and mTLS, with a throwaway CA made by openssl: a TLS server refuses plaintext and
clients that do not trust its CA; an mTLS server also refuses clients without a
certificate its CA signed. tally-healthcheck, tally-export-history and grpcurl reach
them the way README shows."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tally.booking.v1 import booking_pb2, booking_pb2_grpc

from server.core.config import Settings
from server.core.tls import ClientOptions
from tests.support import ROOT, ServerProcess, bearer, create_api_key, make_certificates

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
REFUSED = grpc.StatusCode.UNAVAILABLE


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> dict[str, Path]:
    return make_certificates(tmp_path_factory.mktemp("tls"))


def trusting(certs: dict[str, Path], **more: str) -> ClientOptions:
    return ClientOptions(ca_file=str(certs["ca.pem"]), **more)


def with_client_cert(certs: dict[str, Path], name: str = "client") -> ClientOptions:
    return trusting(certs, cert_file=str(certs[f"{name}.pem"]),
                    key_file=str(certs[f"{name}.key"]))


@pytest.fixture(scope="module")
def tls_server(database_url, redis_client, certs):
    proc = ServerProcess(database_url, client=trusting(certs),
                         TLS_CERT_FILE=str(certs["server.pem"]),
                         TLS_KEY_FILE=str(certs["server.key"])).start()
    yield proc
    assert proc.stop() == 0


@pytest.fixture(scope="module")
def mtls_server(database_url, redis_client, certs):
    proc = ServerProcess(database_url, client=with_client_cert(certs), AUTH="required",
                         TLS_CERT_FILE=str(certs["server.pem"]),
                         TLS_KEY_FILE=str(certs["server.key"]),
                         TLS_CLIENT_CA_FILE=str(certs["ca.pem"])).start()
    yield proc
    assert proc.stop() == 0


def health(addr: str, options: ClientOptions | None) -> grpc.StatusCode:
    channel = options.channel(addr) if options else grpc.insecure_channel(addr)
    with channel:
        try:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(),
                                                      timeout=5)
        except grpc.RpcError as err:
            return err.code()
    return grpc.StatusCode.OK


def test_tls_server_answers_a_client_that_trusts_its_ca(tls_server, certs):
    assert health(tls_server.addr, trusting(certs)) == grpc.StatusCode.OK
    with trusting(certs).channel(tls_server.addr) as channel:
        event = booking_pb2_grpc.BookingServiceStub(channel).CreateEvent(
            booking_pb2.CreateEventRequest(name="over TLS", total_seats=1), timeout=10)
    assert event.id > 0
    # By name too: the certificate names localhost.
    assert health(tls_server.addr.replace("127.0.0.1", "localhost"),
                  trusting(certs)) == grpc.StatusCode.OK


def test_tls_server_refuses_plaintext(tls_server):
    assert health(tls_server.addr, None) == REFUSED


def test_tls_server_is_not_trusted_without_its_ca(tls_server, certs):
    rogue = ClientOptions(ca_file=str(certs["rogue-ca.pem"]))
    assert health(tls_server.addr, rogue) == REFUSED
    # ... nor under another name than its certificate's.
    renamed = trusting(certs, server_name="tally.example.org")
    assert health(tls_server.addr, renamed) == REFUSED


def test_mtls_server_refuses_a_client_without_a_certificate(mtls_server, certs):
    assert health(mtls_server.addr, trusting(certs)) == REFUSED


def test_mtls_server_refuses_a_certificate_another_ca_signed(mtls_server, certs):
    assert health(mtls_server.addr, with_client_cert(certs, "rogue-client")) == REFUSED


def test_mtls_server_answers_a_client_certificate_and_still_wants_a_key(
        mtls_server, certs, database_url):
    options = with_client_cert(certs)
    assert health(mtls_server.addr, options) == grpc.StatusCode.OK
    key = create_api_key(database_url, "mtls-booking", ["booking:write"])
    with options.channel(mtls_server.addr) as channel:
        stub = booking_pb2_grpc.BookingServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.CreateEvent(booking_pb2.CreateEventRequest(name="m", total_seats=1), timeout=10)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        event = stub.CreateEvent(booking_pb2.CreateEventRequest(name="m", total_seats=1),
                                 timeout=10, metadata=bearer(key))
    assert event.id > 0


def run(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TALLY_", "TLS_"))}
    clean["PATH"] = f"{BIN}{os.pathsep}{clean.get('PATH', '')}"
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**clean, **env})


def test_healthcheck_over_tls_and_mtls(tls_server, mtls_server, certs):
    assert run(["tally-healthcheck", tls_server.addr]).returncode == 1
    assert run(["tally-healthcheck", tls_server.addr, "--ca", str(certs["ca.pem"])]
               ).returncode == 0
    assert run(["tally-healthcheck", tls_server.addr],
               TALLY_CA_FILE=str(certs["ca.pem"])).returncode == 0
    assert run(["tally-healthcheck", mtls_server.addr],
               TALLY_CA_FILE=str(certs["ca.pem"])).returncode == 1
    assert run(["tally-healthcheck", mtls_server.addr],
               TALLY_CA_FILE=str(certs["ca.pem"]),
               TALLY_CLIENT_CERT_FILE=str(certs["client.pem"]),
               TALLY_CLIENT_KEY_FILE=str(certs["client.key"])).returncode == 0


def test_export_history_over_mtls_with_a_key(mtls_server, certs, database_url, tmp_path):
    out = tmp_path / "history.csv"
    tls_env = {"TALLY_CA_FILE": str(certs["ca.pem"]),
               "TALLY_CLIENT_CERT_FILE": str(certs["client.pem"]),
               "TALLY_CLIENT_KEY_FILE": str(certs["client.key"])}
    argv = ["tally-export-history", "2024", "1", "-o", str(out), "--addr", mtls_server.addr]
    refused = run(argv, **tls_env)
    assert refused.returncode != 0 and "UNAUTHENTICATED" in refused.stderr, refused.stderr
    wrong_scope = create_api_key(database_url, "export-wrong", ["segments:write"])
    refused = run(argv, **tls_env, TALLY_API_KEY=wrong_scope)
    assert refused.returncode != 0 and "PERMISSION_DENIED" in refused.stderr, refused.stderr
    key = create_api_key(database_url, "export-reader", ["segments:read"])
    done = run(argv, **tls_env, TALLY_API_KEY=key)
    assert done.returncode == 0, done.stderr
    assert out.read_text().startswith("user_id"), out.read_text()[:200]
    out.unlink()
    flags = run([*argv, "--api-key", key, "--ca", str(certs["ca.pem"]),
                 "--cert", str(certs["client.pem"]), "--key", str(certs["client.key"])])
    assert flags.returncode == 0 and out.exists(), flags.stderr


def test_grpcurl_with_cacert_cert_and_key(mtls_server, certs, database_url):
    """README's form of a call to a TLS server with client certificates and a key."""
    key = create_api_key(database_url, "grpcurl-mtls", ["booking:read"])
    grpcurl = shutil.which("grpcurl", path=str(BIN))
    assert grpcurl
    done = run([grpcurl, "-cacert", str(certs["ca.pem"]), "-cert", str(certs["client.pem"]),
                "-key", str(certs["client.key"]), "-H", f"authorization: Bearer {key}",
                "-d", '{"page_size": 1}', mtls_server.addr,
                "tally.booking.v1.BookingService/ListEvents"])
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(("env", "message"), [
    ({"TLS_CERT_FILE": "/x.pem"}, "TLS_CERT_FILE and TLS_KEY_FILE go together"),
    ({"TLS_CLIENT_CA_FILE": "/ca.pem"}, "needs TLS_CERT_FILE"),
])
def test_incomplete_tls_settings_stop_the_server(monkeypatch, env, message):
    for name in ("TLS_CERT_FILE", "TLS_KEY_FILE", "TLS_CLIENT_CA_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit, match=message):
        Settings.from_env()


def test_unreadable_certificate_stops_the_server(database_url, tmp_path):
    proc = ServerProcess(database_url, TLS_CERT_FILE=str(tmp_path / "missing.pem"),
                         TLS_KEY_FILE=str(tmp_path / "missing.key"))
    with pytest.raises(RuntimeError, match="cannot read TLS_KEY_FILE"):
        proc.start(timeout=30)
    assert proc.proc is not None and proc.proc.returncode not in (0, None)
