"""`pip install .` (not editable) gives working commands, with no source tree in sight.

A fresh virtual environment gets tally exactly as a user installs it; every command then
runs from an empty directory with only that environment's bin/ on PATH, as typed:
tally-migrate, tally-server, tally-healthcheck, tally-export-history, run-once,
launch-many, and the AMQP bridge's tally-amqp-bridge and tally-amqp-produce. The built
package carries its SQL and generated stubs (setup.py)."""

from __future__ import annotations

import os
import subprocess
import venv
from pathlib import Path

import grpc
import psycopg
import pytest
from tally.clicks.v1 import clicks_pb2, clicks_pb2_grpc

from server.core.config import APP_ROLE, with_user
from tests.support import (
    ROOT,
    TEST_REDIS_URL,
    ServerProcess,
    free_port,
    recreate_database,
    scratch_database_url,
)

pytestmark = pytest.mark.slow

COMMANDS = ("tally-server", "tally-migrate", "tally-healthcheck", "tally-export-history",
            "run-once", "launch-many", "tally-amqp-bridge", "tally-amqp-produce")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin/ directory of a new venv into which `pip install <repo>` put tally."""
    home = tmp_path_factory.mktemp("install")
    venv.EnvBuilder(with_pip=True).create(home / "venv")
    done = subprocess.run([str(home / "venv" / "bin" / "pip"), "install", "--quiet",
                           "--disable-pip-version-check", str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return home / "venv" / "bin"


@pytest.fixture(scope="module")
def user_shell(installed: Path, tmp_path_factory):
    """Run a command line as a user whose PATH starts with the installed venv's bin/,
    from an empty directory (so nothing is imported from the source tree)."""
    cwd = tmp_path_factory.mktemp("cwd")
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    base["PATH"] = f"{installed}:/usr/local/bin:/usr/bin:/bin"

    def run(line: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "-c", line], cwd=cwd, env={**base, **env},
                              capture_output=True, text=True, timeout=timeout)

    run.env = base  # type: ignore[attr-defined]
    run.cwd = cwd  # type: ignore[attr-defined]
    return run


def test_every_command_is_on_path(user_shell):
    for command in COMMANDS:
        done = user_shell(f"command -v {command}")
        assert done.returncode == 0, f"{command} is not on PATH after pip install"
    done = user_shell("python -c 'import server.ops.migrate as m; print(m.SQL_DIR)'")
    assert "site-packages" in done.stdout, done.stdout + done.stderr
    # The bridge's modules and aio-pika came with the package.
    done = user_shell("python -c 'import server.amqp.bridge' && tally-amqp-produce --help")
    assert done.returncode == 0 and "tally-amqp-produce" in done.stdout, done.stderr


def test_installed_migrate_server_healthcheck_and_export(user_shell):
    url = scratch_database_url("installed")
    recreate_database(url)  # drop; the installed tally-migrate then builds it again
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop schema clicks cascade")
        conn.execute("delete from _yoyo_migration where migration_id = '0003.clicks'")
    done = user_shell("tally-migrate", DATABASE_URL=url)
    assert done.returncode == 0, done.stderr
    assert "1 migration(s) applied" in done.stderr

    port, metrics = free_port(), free_port()
    env = {**user_shell.env, "DATABASE_URL": url, "APP_DATABASE_URL": with_user(url, APP_ROLE),
           "REDIS_URL": TEST_REDIS_URL, "GRPC_ADDR": f"127.0.0.1:{port}",
           "METRICS_ADDR": f"127.0.0.1:{metrics}", "LOG_LEVEL": "WARNING", "JOBS": "false"}
    proc = ServerProcess(url)
    proc.addr, proc.env = f"127.0.0.1:{port}", env
    log = proc.log_path.open("wb")
    proc.proc = subprocess.Popen(["bash", "-c", "exec tally-server"], cwd=user_shell.cwd,
                                 env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        proc.wait_serving()
        assert user_shell(f"tally-healthcheck 127.0.0.1:{port}").returncode == 0
        with grpc.insecure_channel(proc.addr) as channel:
            banner = clicks_pb2_grpc.ClickServiceStub(channel).CreateBanner(
                clicks_pb2.CreateBannerRequest(name="installed"), timeout=10)
        assert banner.id > 0
        done = user_shell(f"tally-export-history 2023 8 -o h.csv --addr 127.0.0.1:{port}")
        assert done.returncode == 0, done.stderr
        assert (user_shell.cwd / "h.csv").read_text().startswith("user_id")
    finally:
        proc.stop()
    assert user_shell(f"tally-healthcheck 127.0.0.1:{port}").returncode == 1


def test_installed_run_once_and_launch_many(user_shell):
    lock = f"installed-{os.getpid()}"
    done = user_shell(f"run-once --lock {lock} --sleep 0", REDIS_URL=TEST_REDIS_URL)
    assert done.returncode == 0, done.stderr
    assert "started" in done.stdout and "finished" in done.stdout
    done = user_shell(f"launch-many -n 20 -q -- run-once --lock {lock}-many --sleep 0.2",
                      REDIS_URL=TEST_REDIS_URL)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "n=20 started=1 skipped=19 failed=0" in done.stdout, done.stdout

