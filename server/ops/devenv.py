"""Development environment checks used by the Makefile.

  python -m server.ops.devenv services    PostgreSQL and Redis answer at DATABASE_URL and
                                      REDIS_URL; if nothing answers on a local address and
                                      the server binaries are installed, start
                                      project-local instances under .local/
  python -m server.ops.devenv test-tools  pgTAP, plpgsql_check, PL/Proxy, docker-compose and
                                      Prometheus are installed (from Debian's packages when
                                      root); RabbitMQ answers on 127.0.0.1:5672, with
                                      rabbitmqctl; `services` with SHARDS > 0 installs PL/Proxy
  python -m server.ops.devenv stop        stop the project-local instances, if any
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from ..core.config import DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / ".local"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}


def say(message: str) -> None:
    print(f"devenv: {message}", flush=True)


def _answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host or "127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def _wait(host: str, port: int, what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _answers(host, port):
            return
        time.sleep(0.2)
    sys.exit(f"devenv: {what} did not start on {host}:{port}; see .local/*.log")


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def _as_postgres_user(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user."""
    if os.geteuid() != 0:
        return cmd
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        sys.exit("devenv: running as root and there is no 'postgres' user to run PostgreSQL")
    return ["runuser", "-u", "postgres", "--", *cmd]


def ensure_postgres(url: str) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    if _answers(host, port):
        return
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if host not in LOCAL_HOSTS or not (initdb and pg_ctl):
        sys.exit(f"devenv: nothing answers at {host}:{port} (DATABASE_URL) and no local "
                 "PostgreSQL binaries were found; start PostgreSQL or set DATABASE_URL")
    data = LOCAL / "postgres"
    LOCAL.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(LOCAL, "postgres")
    if not (data / "PG_VERSION").exists():
        say(f"initialising a project-local PostgreSQL in {data}")
        subprocess.run(_as_postgres_user([initdb, "-D", str(data), "-U", parts.username
                                          or "postgres", "--auth=trust", "-E", "UTF8"]),
                       check=True, stdout=subprocess.DEVNULL)
    say(f"starting project-local PostgreSQL on port {port}")
    subprocess.run(_as_postgres_user([
        pg_ctl, "-D", str(data), "-l", str(LOCAL / "postgres.log"), "-w", "start",
        "-o", f"-p {port} -c listen_addresses=127.0.0.1 -k {data}"]), check=True)
    _wait(host, port, "PostgreSQL")


def ensure_redis(url: str) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    if _answers(host, port):
        return
    server = shutil.which("redis-server")
    if host not in LOCAL_HOSTS or not server:
        sys.exit(f"devenv: nothing answers at {host}:{port} (REDIS_URL) and redis-server is "
                 "not installed; start Redis or set REDIS_URL")
    data = LOCAL / "redis"
    data.mkdir(parents=True, exist_ok=True)
    say(f"starting project-local Redis on port {port}")
    subprocess.run([server, "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(port),
                    "--dir", str(data), "--logfile", str(LOCAL / "redis.log"),
                    "--pidfile", str(LOCAL / "redis.pid"), "--save", ""], check=True)
    _wait(host, port, "Redis")


def _apt_install(packages: list[str]) -> None:
    say(f"installing {' '.join(packages)} (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    # Without recommends: docker-compose would bring the Docker engine and prometheus
    # its node exporter, neither of which the suite runs.
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
                   check=True, env=env, stdout=subprocess.DEVNULL)


# Extensions the server's PostgreSQL must offer: name -> Debian package suffix.
TEST_EXTENSIONS = {"pgtap": "pgtap", "plpgsql_check": "plpgsql-check", "plproxy": "plproxy"}
# Sharded mode (SHARDS > 0) routes calls through PL/Proxy.
SHARD_EXTENSIONS = {"plproxy": "plproxy"}


def _missing_extensions(url: str, wanted: dict[str, str]) -> list[str]:
    """The Debian packages of the extensions in `wanted` the server does not offer."""
    with psycopg.connect(url, dbname="postgres", autocommit=True) as conn:
        version = conn.execute("show server_version_num").fetchone()
        if version is None:
            raise RuntimeError("show server_version_num returned no row")
        major = int(version[0]) // 10000
        available = {r[0] for r in conn.execute(
            "select name from pg_available_extensions where name = any(%s)",
            (list(wanted),))}
    return [f"postgresql-{major}-{package}"
            for extension, package in wanted.items() if extension not in available]


def _install_or_exit(missing: list[str], needed_by: str) -> None:
    if not missing:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        _apt_install(missing)
        return
    sys.exit(f"devenv: {needed_by} needs " + ", ".join(missing) + ". Install them, e.g.\n"
             "  sudo apt-get install " + " ".join(missing) + "\n"
             "(PostgreSQL extensions must be installed where the PostgreSQL server runs.)")


def ensure_test_tools(url: str) -> None:
    missing = _missing_extensions(url, TEST_EXTENSIONS)
    if not shutil.which("docker-compose"):
        missing.append("docker-compose")
    if not shutil.which("prometheus"):  # the monitoring test runs the real one
        missing.append("prometheus")
    # The AMQP tests make virtual hosts of their own on a running broker; installing
    # one would start a service, which is not the tool check's to do.
    if not shutil.which("rabbitmqctl") or not _answers("127.0.0.1", 5672):
        sys.exit("devenv: the test suite needs RabbitMQ answering on 127.0.0.1:5672 and its"
                 " rabbitmqctl on this machine (e.g. apt-get install rabbitmq-server)")
    _install_or_exit(missing, "the test suite")


def ensure_shard_tools(url: str) -> None:
    """PL/Proxy, where SHARDS asks for a sharded database (make run/migrate SHARDS=2)."""
    _install_or_exit(_missing_extensions(url, SHARD_EXTENSIONS), "SHARDS > 0")


def stop_local() -> None:
    data = LOCAL / "postgres"
    pg_ctl = _pg_bin("pg_ctl")
    if (data / "postmaster.pid").exists() and pg_ctl:
        subprocess.run(_as_postgres_user([pg_ctl, "-D", str(data), "-m", "fast", "stop"]),
                       check=False)
    pidfile = LOCAL / "redis.pid"
    if pidfile.exists():
        try:
            os.kill(int(pidfile.read_text().strip()), 15)
        except (ProcessLookupError, ValueError):
            pass
        pidfile.unlink(missing_ok=True)


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "services"
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    if command == "services":
        ensure_postgres(database_url)
        ensure_redis(redis_url)
        if (os.environ.get("SHARDS") or "0").strip() not in ("", "0"):
            ensure_shard_tools(database_url)
    elif command == "test-tools":
        ensure_postgres(os.environ.get("TEST_DATABASE_URL") or database_url)
        ensure_redis(os.environ.get("TEST_REDIS_URL") or redis_url)
        ensure_test_tools(os.environ.get("TEST_DATABASE_URL") or database_url)
    elif command == "stop":
        stop_local()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
