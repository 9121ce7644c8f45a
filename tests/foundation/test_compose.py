"""docker-compose.yml is valid and wires the services as README says. No Docker engine
runs here: test_deploy.py runs the services' commands and health checks instead."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from tests.support import ROOT

MONITORING = ROOT / "server" / "ops" / "monitoring"


# What docker-compose.yml requires from the environment, with no default.
REQUIRED = ("POSTGRES_PASSWORD", "TALLY_APP_PASSWORD", "TALLY_JOBS_PASSWORD",
            "RABBITMQ_PASSWORD", "GRAFANA_ADMIN_PASSWORD")
PLACEHOLDERS = {name: f"{name.lower()}-value" for name in REQUIRED}


def run_compose(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """docker-compose with none of REQUIRED from this environment, only from `env`."""
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose is not installed (make test installs it when run as root)"
    environ = {k: v for k, v in os.environ.items() if k not in REQUIRED}
    return subprocess.run([exe, "-f", str(ROOT / "docker-compose.yml"), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={**environ, **env})


def compose(*args: str, **env: str) -> str:
    done = run_compose(*args, **{**PLACEHOLDERS, **env})
    assert done.returncode == 0, done.stderr
    return done.stdout


def bind_mounts(service: dict) -> dict[str, tuple[Path, str]]:
    """Container path -> (host path, mode) of the service's bind mounts."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target, *mode = volume.split(":")
        if source.startswith("/"):
            mounts[target] = (Path(source), mode[0] if mode else "rw")
    return mounts


def test_compose_file_is_valid():
    compose("config", "-q")


def test_compose_services_health_checks_and_order():
    services = yaml.safe_load(compose("config"))["services"]
    assert set(services) == {"postgres", "redis", "migrate", "server", "rabbitmq",
                             "amqp-bridge", "prometheus", "grafana"}
    for name in ("postgres", "redis", "server", "rabbitmq", "prometheus", "grafana"):
        assert services[name]["healthcheck"]["test"], name
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["server"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert services["amqp-bridge"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "rabbitmq": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    # The bridge, like the server, holds no admin credentials.
    bridge = services["amqp-bridge"]["environment"]
    assert "DATABASE_URL" not in bridge
    assert bridge["APP_DATABASE_URL"].startswith("postgresql://tally_app:")
    assert bridge["JOBS_DATABASE_URL"].startswith("postgresql://tally_jobs:")
    # The server reaches the database as the application role, not as the admin.
    assert services["server"]["environment"]["APP_DATABASE_URL"].startswith(
        "postgresql://tally_app:")


def test_monitoring_images_are_pinned_and_config_mounted_read_only():
    services = yaml.safe_load(compose("config"))["services"]
    for name in ("prometheus", "grafana"):
        image = services[name]["image"]
        assert re.search(r":v?\d+\.\d+\.\d+$", image), f"{name}: {image} is not pinned"
        mounts = bind_mounts(services[name])
        assert mounts, name
        for target, (source, mode) in mounts.items():
            assert mode == "ro", f"{name}: {target} is mounted {mode}"
            assert source.is_relative_to(MONITORING) and source.exists(), source


def test_prometheus_scrapes_the_server_and_bridge_metrics_ports():
    services = yaml.safe_load(compose("config"))["services"]
    prometheus = services["prometheus"]
    config_path = next(a.split("=", 1)[1] for a in prometheus["command"]
                       if a.startswith("--config.file="))
    assert bind_mounts(prometheus)[config_path][0] == MONITORING / "prometheus.yml"
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    targets = [t for job in config["scrape_configs"] for sc in job["static_configs"]
               for t in sc["targets"]]
    metrics_port = services["server"]["environment"]["METRICS_ADDR"].rsplit(":", 1)[1]
    bridge_port = services["amqp-bridge"]["environment"]["AMQP_METRICS_ADDR"].rsplit(":", 1)[1]
    assert targets == [f"server:{metrics_port}", f"amqp-bridge:{bridge_port}"]


def test_grafana_is_provisioned_with_the_datasource_and_dashboard():
    services = yaml.safe_load(compose("config"))["services"]
    grafana = services["grafana"]
    mounts = {source: target for target, (source, _) in bind_mounts(grafana).items()}
    provisioning = MONITORING / "grafana" / "provisioning"
    assert mounts[provisioning / "datasources"] == "/etc/grafana/provisioning/datasources"
    assert mounts[provisioning / "dashboards"] == "/etc/grafana/provisioning/dashboards"

    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text()
                               )["datasources"]
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    assert "127.0.0.1:9090:9090" in [p.rsplit("/", 1)[0] for p in services["prometheus"]["ports"]]

    (provider,) = yaml.safe_load((provisioning / "dashboards" / "tally.yml").read_text()
                                 )["providers"]
    dashboards = MONITORING / "grafana" / "dashboards"
    assert mounts[dashboards] == provider["options"]["path"]
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{provider['options']['path']}/tally.json"
    dashboard = json.loads((dashboards / "tally.json").read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert panels
    for panel in panels:  # every panel and query reads the provisioned datasource
        for ref in [panel["datasource"], *(t["datasource"] for t in panel["targets"])]:
            assert ref == {"type": "prometheus", "uid": source["uid"]}, panel["title"]


def test_passwords_come_only_from_the_environment():
    """No password has a usable default: each one missing stops compose, naming it."""
    for name in REQUIRED:
        done = run_compose("config", "-q", **{k: v for k, v in PLACEHOLDERS.items()
                                              if k != name})
        assert done.returncode != 0 and f"set {name}" in done.stderr, (name, done.stderr)
    services = yaml.safe_load(compose("config"))["services"]
    text = yaml.safe_dump(services)
    for name, value in PLACEHOLDERS.items():
        assert value in text, name
    assert services["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"] == (
        PLACEHOLDERS["GRAFANA_ADMIN_PASSWORD"])
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == (
        PLACEHOLDERS["POSTGRES_PASSWORD"])


def test_server_requires_api_keys():
    server = yaml.safe_load(compose("config"))["services"]["server"]
    assert server["environment"]["AUTH"] == "required"


def test_make_compose_check_sets_placeholders():
    environ = {k: v for k, v in os.environ.items() if k not in REQUIRED}
    done = subprocess.run(["make", "--no-print-directory", "compose-check"], cwd=ROOT,
                          env=environ, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
