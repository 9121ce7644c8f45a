"""docker-compose.yml's topology, run here without a Docker engine.

The services' commands, environments and health checks come from `docker-compose
config` (so `${VAR:?message}` is resolved by compose itself, with only the passwords it
requires set: new random ones) and run as compose would run them, in the order its
`depends_on` conditions impose:

1. postgres: what the image's entrypoint does with POSTGRES_USER/PASSWORD/DB on an
   empty volume (initdb with scram-sha-256 for TCP and the password from a file; a
   socket-only server creates the database; then the real server listens on TCP),
   with its health check run during the socket-only phase (it must not pass) and after;
2. redis: its command, and its health check;
3. migrate: its command must exit 0;
4. server: its command, until its health check passes; then an API key made as README
   tells operators to (as tally_operator, through SQL), one call with it per gRPC
   service (and one without, refused), and checks that it logged in as tally_app with
   the password migrate set, that it used this Redis and serves metrics, and that it
   stops on its stop signal within the grace period;
5. rabbitmq: this machine's broker stands in, with a virtual host and a user of the
   test's own, made as the image's entrypoint makes RABBITMQ_DEFAULT_USER/PASS (the user
   with that password), and its health check; then amqp-bridge: its command, until it
   consumes; one message through a queue with a reply, and checks that it logged in as
   tally_app and tally_jobs, never as the admin, and stops on its stop signal.

`localize` is the only difference between the compose run and this one. The image's
`python` (with tally installed, WORKDIR the repository) is the test's interpreter: the
commands run from the repository root with its directory first on PATH.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aio_pika
import grpc
import psycopg
import pytest
import redis
import yaml
from psycopg import sql
from psycopg.conninfo import make_conninfo
from tally.booking.v1 import booking_pb2, booking_pb2_grpc
from tally.clicks.v1 import clicks_pb2, clicks_pb2_grpc
from tally.segments.v1 import segments_pb2, segments_pb2_grpc
from tally.shop.v1 import shop_pb2, shop_pb2_grpc

from server.ops import devenv
from tests.support import ROOT, bearer, create_api_key, free_port, rabbitmqctl

pytestmark = pytest.mark.slow

COMPOSE_FILE = ROOT / "docker-compose.yml"
# Where the image's `python` is: the interpreter running the tests (the venv's).
IMAGE_BIN = Path(sys.executable).parent


# The passwords docker-compose.yml requires; README tells operators to set them.
COMPOSE_SECRETS = ("POSTGRES_PASSWORD", "TALLY_APP_PASSWORD", "TALLY_JOBS_PASSWORD",
                   "RABBITMQ_PASSWORD", "GRAFANA_ADMIN_PASSWORD")


async def ask(amqp_url: str, queue: str, body: dict) -> dict:
    """Publish `body` on `queue` with a reply queue; the reply, which must be a success."""
    async with await aio_pika.connect(amqp_url) as connection:
        channel = await connection.channel()
        replies = await channel.declare_queue("", exclusive=True)
        await channel.default_exchange.publish(
            aio_pika.Message(json.dumps(body).encode(), message_id=secrets.token_hex(8),
                             reply_to=replies.name, correlation_id="deploy"),
            routing_key=queue)
        async with replies.iterator(timeout=30) as messages:
            async for message in messages:
                assert (message.headers or {}).get("x-tally-outcome") == "ok", message.body
                return json.loads(message.body)
    raise AssertionError("no reply")


def compose_services() -> dict[str, dict]:
    """The services as compose would run them, interpolated with nothing set but the
    passwords it requires (new random ones, as an operator would choose)."""
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose is not installed (make test installs it when run as root)"
    clean = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/")}
    clean.update({name: secrets.token_hex(16) for name in COMPOSE_SECRETS})
    done = subprocess.run([exe, "-f", str(COMPOSE_FILE), "config"], capture_output=True,
                          text=True, cwd=ROOT, env=clean, timeout=60)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)["services"]


def seconds(duration: str | int | float | None, default: float) -> float:
    """A compose duration ("2s", "1m30s", "500ms") in seconds."""
    if duration is None:
        return default
    if isinstance(duration, int | float):
        return float(duration)
    units = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    parts = re.findall(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(float(n) * units[u] for n, u in parts)


@dataclass
class Local:
    """Where this machine's stand-ins for the compose services listen."""

    postgres_port: int
    postgres_socket_dir: str
    redis_port: int
    # A listen address's container port -> the free port used here instead.
    listen_ports: dict[int, int] = field(default_factory=dict)
    # The rabbitmq service's stand-in: a virtual host and user of this test's own on this
    # machine's broker (5672).
    amqp_vhost: str = ""
    amqp_user: str = ""

    def service_ports(self) -> dict[str, int]:
        return {"postgres": self.postgres_port, "redis": self.redis_port, "rabbitmq": 5672}


def localize(service: str, argv: list[str], environment: dict[str, str], local: Local
             ) -> tuple[list[str], dict[str, str]]:
    """A service's command and environment, as run here instead of in its container.

    This is the only difference between the compose run and this test's:
    - `<service>:<port>` (postgres:5432, redis:6379, rabbitmq:5672) in any value or
      argument becomes 127.0.0.1 and the port of the local instance; an AMQP URL names
      the stand-in's user and virtual host instead of the service's default user and
      vhost (the password stays);
    - a listen address on all interfaces (0.0.0.0:50051) keeps its host and gets a
      free port: a container has its own ports, this machine's are shared;
    - what a container finds at its own defaults is told explicitly: in the postgres
      service, PGHOST/PGPORT name the local cluster's socket directory and port (the
      image's /var/run/postgresql and 5432, for pg_isready or psql run inside it);
      redis-server gets `--port` and `--bind 127.0.0.1`, redis-cli `-p`;
    - the environment is the service's only, plus PATH with the image's `python` first
      (and PYTHONUNBUFFERED, as the image sets it): nothing leaks from the test run.
    """
    services = local.service_ports()

    def rewrite(value: str) -> str:
        def one(match: re.Match[str]) -> str:
            host, port = match.group(1), int(match.group(2))
            if host in services:
                return f"127.0.0.1:{services[host]}"
            if host == "0.0.0.0":
                if port not in local.listen_ports:
                    local.listen_ports[port] = free_port()
                return f"0.0.0.0:{local.listen_ports[port]}"
            return match.group(0)

        # host:port, not user:password@ (a password made of digits is not a port).
        return re.sub(r"(?<![\w.-])([\w.-]+):(\d+)(?![\w@])", one, value)

    def amqp(value: str) -> str:
        found = re.fullmatch(r"amqp://[^:@/]+:([^@/]*)@rabbitmq:5672/", value)
        if not found:
            return value
        return (f"amqp://{local.amqp_user}:{found.group(1)}@rabbitmq:5672/"
                f"{local.amqp_vhost}")

    argv = [rewrite(a) for a in argv]
    env = {k: rewrite(amqp(str(v))) for k, v in environment.items()}
    env.update({
        "PATH": f"{IMAGE_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": os.environ.get("HOME", "/"),
        "PYTHONUNBUFFERED": "1",
    })
    if service == "postgres":
        env.update(PGHOST=local.postgres_socket_dir, PGPORT=str(local.postgres_port))
    if argv and argv[0] == "redis-server":
        argv = [*argv, "--port", str(local.redis_port), "--bind", "127.0.0.1"]
    elif argv and argv[0] == "redis-cli":
        argv = [argv[0], "-p", str(local.redis_port), *argv[1:]]
    return argv, env


def health_argv(service: dict) -> list[str]:
    test = service["healthcheck"]["test"]
    if isinstance(test, str):
        return ["/bin/sh", "-c", test]
    kind, *rest = test
    assert kind in ("CMD", "CMD-SHELL"), test
    return rest if kind == "CMD" else ["/bin/sh", "-c", rest[0]]


def run_healthcheck(name: str, service: dict, local: Local
                    ) -> subprocess.CompletedProcess[str]:
    argv, env = localize(name, health_argv(service), service.get("environment", {}), local)
    timeout = seconds(service["healthcheck"].get("timeout"), 30)
    try:
        return subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, -1, "", f"timed out after {timeout}s")


def wait_healthy(name: str, service: dict, local: Local,
                 alive: subprocess.Popen[bytes] | None = None, log: Path | None = None
                 ) -> None:
    """Run the health check until it passes, polling more often than compose would,
    within the time compose gives it before calling it unhealthy (start period +
    interval x retries), or a minute on a machine busy enough to need it."""
    check = service["healthcheck"]
    interval = seconds(check.get("interval"), 30)
    budget = seconds(check.get("start_period"), 0) + interval * int(check.get("retries", 3))
    budget = max(budget, 60.0)
    deadline = time.monotonic() + budget
    while True:
        done = run_healthcheck(name, service, local)
        if done.returncode == 0:
            return
        if alive is not None and alive.poll() is not None:
            pytest.fail(f"{name} exited with {alive.returncode} before it was healthy:\n"
                        + tail(log))
        if time.monotonic() > deadline:
            pytest.fail(f"{name} not healthy after {budget:.0f}s: {done.stdout}{done.stderr}"
                        + ("\n" + tail(log) if log else ""))
        time.sleep(min(interval, 0.5))


def tail(path: Path | None, lines: int = 60) -> str:
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class PostgresContainer:
    """The postgres image's entrypoint on an empty volume, in essence: initdb as
    POSTGRES_USER with POSTGRES_PASSWORD from a file and scram-sha-256 for TCP (trust on
    the local socket, as in the image), then a server on the socket only creates
    POSTGRES_DB (owned by POSTGRES_USER), then the server proper listens on TCP."""

    def __init__(self, root: Path, environment: dict[str, str]) -> None:
        self.user = environment.get("POSTGRES_USER", "postgres")
        self.password = environment["POSTGRES_PASSWORD"]
        self.dbname = environment.get("POSTGRES_DB", self.user)
        self.data = root / "data"
        self.socket_dir = root / "run"
        self.log = root / "postgres.log"
        self.port = free_port()
        self.running = False
        initdb, self.pg_ctl = devenv._pg_bin("initdb"), devenv._pg_bin("pg_ctl")
        assert initdb and self.pg_ctl, "PostgreSQL server binaries (initdb, pg_ctl) not found"
        self.initdb = initdb

    def initialise(self) -> None:
        self.socket_dir.mkdir()
        pwfile = self.data.parent / "pwfile"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            for path in (self.data.parent, self.socket_dir, pwfile):
                shutil.chown(path, "postgres")
        pwfile.chmod(0o600)
        done = subprocess.run(devenv._as_postgres_user([
            self.initdb, "-D", str(self.data), "-U", self.user, f"--pwfile={pwfile}",
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync",
        ]), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        pwfile.unlink()

    def start(self, *, tcp: bool) -> None:
        listen = "127.0.0.1" if tcp else "''"
        done = subprocess.run(devenv._as_postgres_user([
            self.pg_ctl, "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start",
            "-o", f"-p {self.port} -k {self.socket_dir} -c listen_addresses={listen}"
                  " -c fsync=off",
        ]), capture_output=True, text=True, timeout=90)
        self.running = done.returncode == 0
        assert self.running, done.stdout + done.stderr + tail(self.log)

    def stop(self, mode: str = "fast") -> None:
        if self.running:
            subprocess.run(devenv._as_postgres_user(
                [self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop"]),
                capture_output=True, timeout=60, check=False)
            self.running = False

    def create_database(self) -> None:
        """As the entrypoint does, over the socket as POSTGRES_USER."""
        conninfo = make_conninfo(host=str(self.socket_dir), port=self.port, user=self.user,
                                 dbname="postgres")
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(self.dbname)))


@dataclass
class Deployment:
    services: dict[str, dict]
    root: Path
    local: Local | None = None
    postgres: PostgresContainer | None = None
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    cleanups: list[Callable[[], object]] = field(default_factory=list)

    def spawn(self, name: str, argv: list[str], env: dict[str, str], cwd: Path = ROOT
              ) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.root / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(proc)
        return proc, log

    def close(self) -> None:
        for proc in reversed(self.processes):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(30)
        for cleanup in reversed(self.cleanups):
            with contextlib.suppress(Exception):
                cleanup()
        if self.postgres is not None:
            self.postgres.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def deployment() -> Iterator[Deployment]:
    root = Path(tempfile.mkdtemp(prefix="tally-deploy-"))
    found = Deployment(compose_services(), root)
    try:
        yield found
    finally:
        found.close()


def test_compose_topology_runs_without_docker(deployment: Deployment):
    services = deployment.services
    pg_service, redis_service = services["postgres"], services["redis"]
    migrate_service, server_service = services["migrate"], services["server"]

    # 1. postgres, as its image initialises an empty volume.
    postgres = deployment.postgres = PostgresContainer(deployment.root,
                                                       pg_service["environment"])
    local = deployment.local = Local(postgres_port=postgres.port,
                                     postgres_socket_dir=str(postgres.socket_dir),
                                     redis_port=free_port())
    postgres.initialise()
    postgres.start(tcp=False)
    postgres.create_database()
    early = run_healthcheck("postgres", pg_service, local)
    assert early.returncode != 0, (
        "the postgres health check passes while the image's entrypoint still runs its "
        "socket-only init server, so migrate would start before PostgreSQL listens on TCP")
    postgres.stop()
    postgres.start(tcp=True)
    wait_healthy("postgres", pg_service, local)

    # 2. redis.
    argv, env = localize("redis", redis_service["command"],
                         redis_service.get("environment", {}), local)
    redis_proc, redis_log = deployment.spawn("redis", argv, env, cwd=deployment.root)
    wait_healthy("redis", redis_service, local, redis_proc, redis_log)

    # 3. migrate, once postgres is healthy; the server waits for it to succeed.
    argv, env = localize("migrate", migrate_service["command"],
                         migrate_service["environment"], local)
    admin_url = env["DATABASE_URL"]
    migrate = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True,
                             timeout=300)
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr

    # 4. server, until its health check passes.
    argv, env = localize("server", server_service["command"],
                         server_service["environment"], local)
    server, server_log = deployment.spawn("server", argv, env)
    wait_healthy("server", server_service, local, server, server_log)

    # The server requires API keys: an operator makes one (the admin acting as
    # tally_operator, as README shows), and every call carries it.
    assert env["AUTH"] == "required"
    key = bearer(create_api_key(admin_url, "deploy", ["*"]))
    grpc_addr = env["GRPC_ADDR"].replace("0.0.0.0:", "127.0.0.1:")
    with grpc.insecure_channel(grpc_addr) as channel:
        booking = booking_pb2_grpc.BookingServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            booking.CreateEvent(booking_pb2.CreateEventRequest(name="x", total_seats=1),
                                timeout=10)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        event = booking.CreateEvent(
            booking_pb2.CreateEventRequest(name="deploy", total_seats=3), timeout=10,
            metadata=key)
        assert event.id > 0 and event.available_seats == 3
        assert booking.GetEvent(booking_pb2.GetEventRequest(event_id=event.id),
                                timeout=10, metadata=key).name == "deploy"
        banner = clicks_pb2_grpc.ClickServiceStub(channel).CreateBanner(
            clicks_pb2.CreateBannerRequest(name="deploy"), timeout=10, metadata=key)
        assert banner.id > 0
        segment = segments_pb2_grpc.SegmentServiceStub(channel).CreateSegment(
            segments_pb2.CreateSegmentRequest(slug="deploy"), timeout=10, metadata=key)
        assert segment.segment.slug == "deploy"
        user = shop_pb2_grpc.UserServiceStub(channel).CreateUser(
            shop_pb2.CreateUserRequest(username="deploy", email="deploy@example.com"),
            timeout=10, metadata=key)
        assert user.id > 0

    # migrate took over the database the image created, and the server logged in over
    # TCP as tally_app, with the password migrate set (a SCRAM verifier); pg_hba asks
    # TCP clients for a password. The admin's credentials are migrate's alone.
    assert "DATABASE_URL" not in env, "the server needs no admin credentials"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        owner = admin.execute("select pg_get_userbyid(datdba) from pg_database"
                              " where datname = current_database()").fetchone()[0]
        app_sessions = admin.execute(
            "select count(*) from pg_stat_activity"
            " where usename = 'tally_app' and datname = current_database()"
            "   and client_addr = '127.0.0.1'").fetchone()[0]
        verifier = admin.execute(
            "select rolpassword from pg_authid where rolname = 'tally_app'").fetchone()[0]
    assert owner == "tally_owner"
    assert app_sessions > 0
    assert verifier.startswith("SCRAM-SHA-256$")
    app_url = env["APP_DATABASE_URL"]
    with psycopg.connect(app_url) as app:
        assert app.execute("select current_user").fetchone()[0] == "tally_app"
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(make_conninfo(app_url, password="not-the-password")).close()

    # The job runner logged in as tally_jobs, with its own password: the daily report's
    # catch-up runs at start-up, and its runs are recorded.
    deadline = time.monotonic() + 30
    with psycopg.connect(admin_url, autocommit=True) as admin:
        while True:
            runs = admin.execute("select count(*) from tally.job_runs"
                                 " where outcome = 'succeeded'").fetchone()[0]
            jobs_sessions = admin.execute(
                "select count(*) from pg_stat_activity where usename = 'tally_jobs'"
                "   and client_addr = '127.0.0.1'").fetchone()[0]
            if (runs and jobs_sessions) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert runs > 0 and jobs_sessions > 0, (runs, jobs_sessions, server_log.read_text())
    with psycopg.connect(env["JOBS_DATABASE_URL"]) as jobs:
        assert jobs.execute("select current_user").fetchone()[0] == "tally_jobs"

    # It used the redis service (GetEvent cached the event there) ...
    cache = redis.Redis(host="127.0.0.1", port=local.redis_port)
    try:
        assert cache.info("keyspace"), "the server wrote nothing to the redis service"
    finally:
        cache.close()
    # ... and serves metrics where METRICS_ADDR says.
    metrics_addr = env["METRICS_ADDR"].replace("0.0.0.0:", "127.0.0.1:")
    with urllib.request.urlopen(f"http://{metrics_addr}/metrics", timeout=5) as reply:
        assert b"tally_rpc_duration_seconds" in reply.read()

    # 5. rabbitmq, as its image initialises: RABBITMQ_DEFAULT_USER with
    # RABBITMQ_DEFAULT_PASS (here a user and a virtual host of this test's own).
    rabbit_service, bridge_service = services["rabbitmq"], services["amqp-bridge"]
    local.amqp_vhost = local.amqp_user = f"tally-deploy-{secrets.token_hex(5)}"
    rabbitmqctl("add_vhost", local.amqp_vhost)
    deployment.cleanups.append(lambda: rabbitmqctl("delete_vhost", local.amqp_vhost))
    rabbitmqctl("add_user", local.amqp_user, rabbit_service["environment"]["RABBITMQ_DEFAULT_PASS"])
    deployment.cleanups.append(lambda: rabbitmqctl("delete_user", local.amqp_user))
    rabbitmqctl("set_permissions", "-p", local.amqp_vhost, local.amqp_user, ".*", ".*", ".*")
    wait_healthy("rabbitmq", rabbit_service, local)

    # 6. amqp-bridge, until it consumes; one product through the queue, with its reply.
    argv, bridge_env = localize("amqp-bridge", bridge_service["command"],
                                bridge_service["environment"], local)
    assert "DATABASE_URL" not in bridge_env, "the bridge needs no admin credentials"
    bridge, bridge_log = deployment.spawn("amqp-bridge", argv, bridge_env)
    bridge_metrics = bridge_env["AMQP_METRICS_ADDR"].replace("0.0.0.0:", "127.0.0.1:")
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"http://{bridge_metrics}/metrics", timeout=5) as reply:
                if b"tally_amqp_consuming 1.0" in reply.read():
                    break
        if bridge.poll() is not None or time.monotonic() > deadline:
            pytest.fail("the bridge did not start consuming:\n" + tail(bridge_log))
        time.sleep(0.2)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        category = admin.execute("insert into shop.categories (name) values ('deploy amqp')"
                                 " returning id").fetchone()[0]
    answer = asyncio.run(ask(bridge_env["AMQP_URL"], "product", {
        "name": "deploy lamp", "price": 9.5, "stock_quantity": 3, "category_id": category}))
    assert answer["name"] == "deploy lamp" and answer["price"] == "9.50", answer
    with psycopg.connect(admin_url, autocommit=True) as admin:
        logins = set(admin.execute(
            "select application_name, usename from pg_stat_activity"
            " where application_name like 'tally-amqp-%%' and client_addr = '127.0.0.1'"
        ).fetchall())
    assert logins == {("tally-amqp-bridge", "tally_app"), ("tally-amqp-reports", "tally_jobs")}, \
        logins

    # 7. `docker-compose stop`: the stop signal, then the grace period.
    bridge.send_signal(getattr(signal, bridge_service.get("stop_signal", "SIGTERM")))
    try:
        assert bridge.wait(seconds(bridge_service.get("stop_grace_period"), 10)) == 0, \
            tail(bridge_log)
    except subprocess.TimeoutExpired:
        pytest.fail("the bridge did not stop on its stop signal:\n" + tail(bridge_log))
    stop_signal = getattr(signal, server_service.get("stop_signal", "SIGTERM"))
    grace = seconds(server_service.get("stop_grace_period"), 10)
    server.send_signal(stop_signal)
    try:
        code = server.wait(grace)
    except subprocess.TimeoutExpired:
        pytest.fail(f"server still running {grace:.0f}s after {stop_signal.name}:\n"
                    + tail(server_log))
    assert code == 0, tail(server_log)
