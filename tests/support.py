"""Test helpers: a real server process, error details, free ports."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import grpc
import psycopg
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from server.core.config import APP_ROLE, JOBS_ROLE, OPERATOR_ROLE, with_database, with_user
from server.core.tls import ClientOptions
from server.ops import migrate

ROOT = Path(__file__).resolve().parent.parent
TEST_DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/tally_test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def recreate_database(url: str) -> None:
    """Drop the database at `url` if it exists, then migrate it from nothing."""
    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(name)))
    migrate.migrate(url)


def scratch_database_url(suffix: str) -> str:
    """A database next to the test database, for tests that need one of their own."""
    base = conninfo_to_dict(TEST_DATABASE_URL)["dbname"]
    return with_database(TEST_DATABASE_URL, f"{base}_{suffix}")


def legacy_database(url: str, first_new: str) -> str:
    """A new database at `url` with the migrations before `first_new` only: the schema as
    a database upgraded to `first_new` had it, for migration tests. Returns `url`."""
    from yoyo import get_backend, read_migrations

    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(name)))
    migrate.bootstrap(url)
    backend = get_backend(migrate._yoyo_uri(url))
    migrations = read_migrations(str(migrate.MIGRATIONS_DIR))
    older = migrations.__class__([m for m in migrations if m.id < first_new])
    with backend.lock():
        backend.apply_migrations(backend.to_apply(older))
    backend.connection.close()
    return url


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on at `host` now (for a server on 0.0.0.0, pass "0.0.0.0":
    a port free on loopback may still be held on another address)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class _ChildProcess:
    """A process of the server's (`python -m <module>`) with its output in a log file under
    .local/; started by the subclass's start, which then waits until it is ready."""

    log_path: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None

    def _spawn(self, module: str, log_mode: str) -> None:
        self.log_path.parent.mkdir(exist_ok=True)
        log = self.log_path.open(log_mode)
        self.proc = subprocess.Popen([sys.executable, "-m", module], cwd=ROOT, env=self.env,
                                     stdout=log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


class ServerProcess(_ChildProcess):
    """`python -m server` against the test database and Redis, on free ports."""

    def __init__(self, database_url: str = TEST_DATABASE_URL, *, workers: int = 1,
                 client: ClientOptions | None = None, **env: str) -> None:
        # How wait_serving reaches it (TLS, a client certificate); plaintext by default.
        self.client = client or ClientOptions()
        self.port = free_port()
        self.metrics_port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.metrics_addr = f"127.0.0.1:{self.metrics_port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "APP_DATABASE_URL": with_user(database_url, APP_ROLE),
            "REDIS_URL": TEST_REDIS_URL,
            "GRPC_ADDR": self.addr,
            "METRICS_ADDR": self.metrics_addr,
            "RATE_LIMIT_MAX": "0",
            "WORKERS": str(workers),
            "HEALTH_INTERVAL": "0.5",
            "LOG_LEVEL": "WARNING",
            **env,
        }
        self.log_path = ROOT / ".local" / f"test-server-{self.port}.log"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        self._spawn("server", "wb")
        self.wait_serving(timeout)
        return self

    def wait_serving(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        with self.client.channel(self.addr) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited with {self.proc.returncode}:\n"
                                       + self.log())
                try:
                    reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                time.sleep(0.1)
        raise RuntimeError("server did not become SERVING:\n" + self.log())

    def send(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)


def create_api_key(database_url: str, name: str, scopes: list[str]) -> str:
    """A new API key, made as README tells operators to: the admin acting as
    tally_operator."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(OPERATOR_ROLE)))
        row = conn.execute("select tally.create_api_key(%s, %s)", (name, scopes)).fetchone()
    assert row is not None
    return str(row[0])


def revoke_api_key(database_url: str, name: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(OPERATOR_ROLE)))
        conn.execute("select tally.revoke_api_key(%s)", (name,))


def bearer(key: str) -> tuple[tuple[str, str], ...]:
    """Call metadata carrying an API key."""
    return (("authorization", f"Bearer {key}"),)


def make_certificates(directory: Path) -> dict[str, Path]:
    """A throwaway CA (openssl), a server certificate it signed for 127.0.0.1 and
    localhost, a client certificate it signed, and a second CA with a client certificate
    of its own (one the server must not accept). Returns name -> path."""
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}

    def openssl(*args: str) -> None:
        done = subprocess.run(["openssl", *args], cwd=directory, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr

    def key(name: str) -> None:
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-out", f"{name}.key")
        paths[f"{name}.key"] = directory / f"{name}.key"

    def ca(name: str) -> None:
        key(name)
        openssl("req", "-x509", "-new", "-key", f"{name}.key", "-out", f"{name}.pem",
                "-days", "2", "-subj", f"/CN={name}",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        paths[f"{name}.pem"] = directory / f"{name}.pem"

    def leaf(name: str, issuer: str, extensions: str) -> None:
        key(name)
        openssl("req", "-new", "-key", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN={name}")
        (directory / f"{name}.ext").write_text(extensions)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{issuer}.pem",
                "-CAkey", f"{issuer}.key", "-CAcreateserial", "-days", "2",
                "-out", f"{name}.pem", "-extfile", f"{name}.ext")
        paths[f"{name}.pem"] = directory / f"{name}.pem"

    ca("ca")
    leaf("server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                         "extendedKeyUsage=serverAuth\n")
    leaf("client", "ca", "extendedKeyUsage=clientAuth\n")
    ca("rogue-ca")
    leaf("rogue-client", "rogue-ca", "extendedKeyUsage=clientAuth\n")
    return paths


def status_details(err: grpc.RpcError) -> dict[str, object]:
    """The google.rpc details of a failed call, by type name (ErrorInfo, BadRequest, ...)."""
    status = rpc_status.from_call(err)
    found: dict[str, object] = {}
    if status is None:
        return found
    for any_ in status.details:
        for cls in (error_details_pb2.ErrorInfo, error_details_pb2.BadRequest,
                    error_details_pb2.RetryInfo, error_details_pb2.PreconditionFailure):
            if any_.Is(cls.DESCRIPTOR):
                msg = cls()
                any_.Unpack(msg)
                found[cls.__name__] = msg
    return found


def reason_of(err: grpc.RpcError) -> str:
    info = status_details(err).get("ErrorInfo")
    assert info is not None, f"no ErrorInfo in {err!r}"
    assert info.domain == "tally"
    return info.reason


def metrics_text(addr: str) -> str:
    """The server's Prometheus exposition text."""
    with urllib.request.urlopen(f"http://{addr}/metrics", timeout=5) as reply:
        return reply.read().decode()


def server_errors(log: str) -> list[str]:
    """The lines of a server log that report a fault: level error or critical, or any
    part of a traceback."""
    found = []
    for line in log.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            found.append(line)  # not a log record: a traceback or stray output
            continue
        if not isinstance(record, dict):
            found.append(line)
        elif str(record.get("level")).lower() in ("error", "critical") or "Traceback" in line:
            found.append(line)
    return found


async def expect_error(call, code: grpc.StatusCode, reason: str) -> grpc.aio.AioRpcError:
    """Await a call that must fail with `code` and ErrorInfo reason `reason`."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() == code, caught.value.details()
    assert reason_of(caught.value) == reason, caught.value.details()
    return caught.value


async def check_paging(list_call, request_type, items: str) -> list[int]:
    """The rules every token-paged List RPC keeps: pages of 3 go through everything in id
    order, a page never holds more than asked, a page_size above 100 gets at most 100,
    and a negative page_size or an undecodable page_token is INVALID_ARGUMENT. Returns
    the ids seen; at least one row must exist."""
    seen: list[int] = []
    token = ""
    while True:
        page = await list_call(request_type(page_size=3, page_token=token))
        assert len(getattr(page, items)) <= 3
        seen.extend(row.id for row in getattr(page, items))
        token = page.next_page_token
        if not token:
            break
    assert seen == sorted(seen)
    big = await list_call(request_type(page_size=1000))
    assert 0 < len(getattr(big, items)) <= 100
    await expect_error(list_call(request_type(page_size=-1)),
                       grpc.StatusCode.INVALID_ARGUMENT, "PAGE_SIZE_INVALID")
    await expect_error(list_call(request_type(page_token="not-a-token!")),
                       grpc.StatusCode.INVALID_ARGUMENT, "PAGE_TOKEN_INVALID")
    return seen


def cached(redis_client, key: str) -> object | None:
    """The value the server's cache holds at `key` (stored as '<epoch>|<json>'), decoded;
    None when nothing is cached there."""
    import json

    stored = redis_client.get(key)
    if stored is None:
        return None
    _, _, value = stored.partition("|")
    return json.loads(value)


def plant(redis_client, key: str, value: object, px: int = 60_000) -> None:
    """Put `value` in the server's cache at `key`, in the current epoch, as it would."""
    import json

    from server.core.cache import EPOCH_KEY

    epoch = redis_client.get(EPOCH_KEY) or "0"
    redis_client.set(key, f"{epoch}|{json.dumps(value)}", px=px)


class BridgeProcess(_ChildProcess):
    """`python -m server.amqp` against the test database and Redis, on an AMQP URL (a
    virtual host of the test's own), publishing reports to a queue of the test's own."""

    def __init__(self, amqp_url: str, database_url: str = TEST_DATABASE_URL, *,
                 report_queue: str = "report", **env: str) -> None:
        self.metrics_addr = f"127.0.0.1:{free_port()}"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "APP_DATABASE_URL": with_user(database_url, APP_ROLE),
            "JOBS_DATABASE_URL": with_user(database_url, JOBS_ROLE),
            "REDIS_URL": TEST_REDIS_URL,
            "AMQP_URL": amqp_url,
            "AMQP_METRICS_ADDR": self.metrics_addr,
            "AMQP_REPORT_QUEUE": report_queue,
            "AMQP_REPORT_POLL_SECONDS": "0.5",
            "LOG_LEVEL": "WARNING",
            **env,
        }
        self.log_path = ROOT / ".local" / f"test-bridge-{self.metrics_addr.rpartition(':')[2]}.log"

    def start(self, timeout: float = 30.0) -> BridgeProcess:
        self._spawn("server.amqp", "ab")
        self.wait_consuming(timeout)
        return self

    def metric(self, name: str) -> float:
        """The sum of a metric's samples whose line starts with `name` (labels included)."""
        total = 0.0
        for line in metrics_text(self.metrics_addr).splitlines():
            if line.startswith(name) and not line.startswith("#"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def wait_consuming(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"bridge exited with {self.proc.returncode}:\n" + self.log())
            try:
                if self.metric("tally_amqp_consuming ") == 1:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("bridge did not start consuming:\n" + self.log())


def rabbitmqctl(*args: str) -> str:
    """Run rabbitmqctl (the broker's own tool; tests that need it fail without it)."""
    exe = shutil.which("rabbitmqctl")
    assert exe, "rabbitmqctl is not installed: the AMQP tests make a virtual host each"
    done = subprocess.run([exe, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout
