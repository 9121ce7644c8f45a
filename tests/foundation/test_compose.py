"""docker-compose.yml is valid and wires the services as README says. No Docker engine
runs here: test_deploy.py runs the services' commands and health checks instead."""

from __future__ import annotations

import shutil
import subprocess

import yaml

from tests.support import ROOT


def compose(*args: str) -> str:
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose is not installed (make test installs it when run as root)"
    done = subprocess.run([exe, "-f", str(ROOT / "docker-compose.yml"), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_compose_file_is_valid():
    compose("config", "-q")


def test_compose_services_health_checks_and_order():
    services = yaml.safe_load(compose("config"))["services"]
    assert set(services) == {"postgres", "redis", "migrate", "server"}
    for name in ("postgres", "redis", "server"):
        assert services[name]["healthcheck"]["test"], name
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["server"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    # The server reaches the database as the application role, not as the admin.
    assert services["server"]["environment"]["APP_DATABASE_URL"].startswith(
        "postgresql://tally_app:")
