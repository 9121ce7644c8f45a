"""Monitoring as docker-compose runs it, without Docker: the real Prometheus (Debian's
package; `make test` installs it) with the prometheus.yml the compose file mounts scrapes a
two-worker server while it serves real calls of every domain, failures included, and the
AMQP bridge beside it (on a RabbitMQ virtual host of its own); then every query of the
provisioned Grafana dashboard must return data through Prometheus's HTTP API.

The configuration Prometheus gets is server/ops/monitoring/prometheus.yml with two
changes only: each target "server:9464" and "amqp-bridge:9465" (the compose services)
becomes the test server's or bridge's metrics address, and scrape_interval becomes 1s.
Grafana's own variables in the queries are replaced by what Grafana would put there
(GRAFANA_VARIABLES).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aio_pika
import grpc
import psycopg
import pytest
import yaml
from google.protobuf.timestamp_pb2 import Timestamp
from tally.booking.v1 import booking_pb2 as bpb
from tally.booking.v1 import booking_pb2_grpc as bgrpc
from tally.clicks.v1 import clicks_pb2 as cpb
from tally.clicks.v1 import clicks_pb2_grpc as cgrpc
from tally.segments.v1 import segments_pb2 as spb
from tally.segments.v1 import segments_pb2_grpc as sgrpc
from tally.shop.v1 import shop_pb2 as shpb

from tests.shop.helpers import Stubs, item, new_category, new_product, new_user
from tests.support import (
    ROOT,
    BridgeProcess,
    ServerProcess,
    free_port,
    rabbitmqctl,
    recreate_database,
    scratch_database_url,
)

MONITORING = ROOT / "server" / "ops" / "monitoring"
PROMETHEUS_YML = MONITORING / "prometheus.yml"
DASHBOARD = MONITORING / "grafana" / "dashboards" / "tally.json"
COMPOSE_TARGET = "server:9464"
BRIDGE_TARGET = "amqp-bridge:9465"
SCRAPE_INTERVAL = "1s"
# What Grafana sends for its variables: $__rate_interval is at least four times the
# datasource's scrape interval (15 s in its provisioning), so 1m for recent data.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}
WORKERS = 2
POOL_SIZE = 3
CREATE_EVENTS_PER_ROUND = 24  # each on a connection of its own, so both workers serve some
BATCHERS = {"booking.reserve_seats", "clicks.record_clicks", "segments.user_segments",
            "segments.update_user_segments", "shop.create_orders"}


def dashboard_panels() -> list[dict]:
    """Every panel but the rows, including those inside collapsed rows."""
    found: list[dict] = []

    def walk(panels: list[dict]) -> None:
        for panel in panels:
            if panel["type"] != "row":
                found.append(panel)
            walk(panel.get("panels", []))

    walk(json.loads(DASHBOARD.read_text())["panels"])
    return found


def dashboard_queries() -> list[tuple[str, str, str]]:
    """(panel title and refId, expr, legendFormat) of every target of every panel."""
    return [(f"{panel['title']} [{target['refId']}]", target["expr"],
             target.get("legendFormat", ""))
            for panel in dashboard_panels() for target in panel["targets"]]


def as_grafana_sends(expr: str) -> str:
    for name, value in sorted(GRAFANA_VARIABLES.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace(name, value)
    assert "$" not in expr, f"a dashboard variable the test does not know: {expr}"
    return expr


def prometheus_config_for(metrics_addr: str, bridge_metrics_addr: str) -> str:
    """prometheus.yml with its compose targets pointed at `metrics_addr` (the server) and
    `bridge_metrics_addr` (the AMQP bridge), scraped every 1s."""
    config = yaml.safe_load(PROMETHEUS_YML.read_text())
    config.setdefault("global", {})["scrape_interval"] = SCRAPE_INTERVAL
    local = {COMPOSE_TARGET: metrics_addr, BRIDGE_TARGET: bridge_metrics_addr}
    replaced = dict.fromkeys(local, 0)
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            targets = static["targets"]
            for target in local:
                replaced[target] += targets.count(target)
            static["targets"] = [local.get(t, t) for t in targets]
    assert replaced == dict.fromkeys(local, 1), f"{PROMETHEUS_YML} should scrape each of" \
        f" {sorted(local)} once"
    return yaml.safe_dump(config)


class Prometheus:
    def __init__(self, workdir: Path, config_text: str) -> None:
        exe = shutil.which("prometheus")
        assert exe, "prometheus is not installed (make test installs it when run as root)"
        self.addr = f"127.0.0.1:{free_port()}"
        config = workdir / "prometheus.yml"
        config.write_text(config_text)
        self.log_path = workdir / "prometheus.log"
        self.proc = subprocess.Popen(
            [exe, f"--config.file={config}", f"--storage.tsdb.path={workdir / 'data'}",
             f"--web.listen-address={self.addr}"],
            stdout=self.log_path.open("wb"), stderr=subprocess.STDOUT)

    def get(self, path: str, **params: str) -> dict:
        url = f"http://{self.addr}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=10) as reply:
            return json.loads(reply.read())

    def query(self, expr: str) -> list[dict]:
        answer = self.get("/api/v1/query", query=expr)
        assert answer["status"] == "success", answer
        data = answer["data"]
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        return data["result"]

    def value(self, expr: str) -> float | None:
        result = self.query(expr)
        assert len(result) <= 1, result
        return float(result[0]["value"][1]) if result else None

    async def wait_until(self, what: str, check, seconds: float = 30.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "prometheus exited:\n" + self.log()
            try:
                if check():
                    return
            except OSError:  # not listening yet
                pass
            await asyncio.sleep(0.2)
        raise AssertionError(f"{what}: not within {seconds} s\n" + self.log())

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def ts(value: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value)
    return out


async def expect_failure(call, code: grpc.StatusCode) -> None:
    try:
        await call
    except grpc.aio.AioRpcError as err:
        assert err.code() == code, err.details()
    else:
        raise AssertionError(f"expected {code}")


async def load(addr: str, round_no: int) -> int:
    """Real calls of every domain, some of them refused; returns the clicks counted."""
    async def create_event(i: int) -> int:
        # A connection of its own: the kernel spreads new connections over the workers.
        async with grpc.aio.insecure_channel(
                addr, options=[("grpc.use_local_subchannel_pool", 1)]) as ch:
            event = await bgrpc.BookingServiceStub(ch).CreateEvent(
                bpb.CreateEventRequest(name=f"monitored {round_no}.{i}", total_seats=3))
            return event.id

    event_ids = [await create_event(i) for i in range(CREATE_EVENTS_PER_ROUND // 2)]
    async with grpc.aio.insecure_channel(addr) as ch:
        booking = bgrpc.BookingServiceStub(ch)
        clicks = cgrpc.ClickServiceStub(ch)
        segments = sgrpc.SegmentServiceStub(ch)
        shop = Stubs(ch)
        not_found = grpc.StatusCode.NOT_FOUND

        # booking: concurrent reservations (one batch), one sold out, one double booking
        seats = await asyncio.gather(
            *(booking.ReserveSeat(bpb.ReserveSeatRequest(event_id=event_ids[0],
                                                         user_id=f"u{round_no}-{n}"))
              for n in range(3)),
            *(booking.ReserveSeat(bpb.ReserveSeatRequest(event_id=e, user_id="many"))
              for e in event_ids[1:]))
        await expect_failure(booking.ReserveSeat(bpb.ReserveSeatRequest(
            event_id=event_ids[0], user_id="late")), grpc.StatusCode.FAILED_PRECONDITION)
        await expect_failure(booking.ReserveSeat(bpb.ReserveSeatRequest(
            event_id=event_ids[1], user_id="many")), grpc.StatusCode.ALREADY_EXISTS)
        await booking.GetEvent(bpb.GetEventRequest(event_id=event_ids[0]))
        await expect_failure(booking.GetEvent(bpb.GetEventRequest(event_id=2**62)), not_found)
        await booking.ListEvents(bpb.ListEventsRequest(page_size=5))
        await booking.GetBooking(bpb.GetBookingRequest(booking_id=seats[0].id))
        await booking.CancelBooking(bpb.CancelBookingRequest(booking_id=seats[0].id))
        await booking.GetUserBookingStats(bpb.GetUserBookingStatsRequest(user_id="many"))

        # clicks: a batch of single clicks, one for an unknown banner, a bulk call
        banner = (await clicks.CreateBanner(cpb.CreateBannerRequest(name="monitored"))).id
        await asyncio.gather(*(clicks.RecordClick(cpb.RecordClickRequest(banner_id=banner))
                               for _ in range(20)))
        await expect_failure(clicks.RecordClick(cpb.RecordClickRequest(banner_id=2**62)),
                             not_found)
        bulk = await clicks.RecordClicks(cpb.RecordClicksRequest(clicks=[
            cpb.ClickCount(banner_id=banner, count=100), cpb.ClickCount(banner_id=banner,
                                                                        count=5)]))
        now = datetime.now(UTC)
        await clicks.GetStats(cpb.GetStatsRequest(banner_id=banner, ts_from=ts(now - timedelta(
            hours=1)), ts_to=ts(now + timedelta(minutes=1))))
        await expect_failure(clicks.GetStats(cpb.GetStatsRequest(
            banner_id=banner, ts_from=ts(now), ts_to=ts(now - timedelta(hours=1)))),
            grpc.StatusCode.INVALID_ARGUMENT)

        # segments
        user_id = 10_000 + round_no
        await segments.CreateUser(spb.CreateUserRequest(user_id=user_id))
        await segments.CreateSegment(spb.CreateSegmentRequest(slug=f"MONITORED_{round_no}"))
        await segments.UpdateUserSegments(spb.UpdateUserSegmentsRequest(
            user_id=user_id, add=[spb.SegmentToAdd(slug=f"MONITORED_{round_no}")]))
        await segments.GetUserSegments(spb.GetUserSegmentsRequest(user_id=user_id))
        await expect_failure(segments.DeleteSegment(spb.DeleteSegmentRequest(
            slug="NO_SUCH_SEGMENT")), not_found)

        # shop: concurrent orders (one batch), one over the stock
        user, address = await new_user(shop)
        category = await new_category(shop)
        product = await new_product(shop, category.id, stock=5)
        await asyncio.gather(*(shop.orders.CreateOrder(shpb.CreateOrderRequest(
            user_id=user.id, delivery_address_id=address.id, items=[item(product.id, 1)]))
            for _ in range(4)))
        await expect_failure(shop.orders.CreateOrder(shpb.CreateOrderRequest(
            user_id=user.id, delivery_address_id=address.id, items=[item(product.id, 5)])),
            grpc.StatusCode.FAILED_PRECONDITION)
    for i in range(CREATE_EVENTS_PER_ROUND // 2, CREATE_EVENTS_PER_ROUND):
        await create_event(i)
    return 20 + bulk.accepted


async def feed_bridge(amqp_url: str, database: str) -> None:
    """One product through the bridge's `product` queue, and one message that is not JSON
    (parked in `product.dead`): the AMQP panels have something to show."""
    with psycopg.connect(database, autocommit=True) as conn:
        row = conn.execute("select id from shop.create_category(%s)",
                           (f"Monitored {uuid.uuid4().hex[:8]}",)).fetchone()
    assert row is not None
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        for body in (json.dumps({"name": f"Monitored {uuid.uuid4().hex[:8]}",
                                 "price": "1.00", "stock_quantity": 1,
                                 "category_id": row[0]}).encode(),
                     b"not json"):
            await channel.default_exchange.publish(
                aio_pika.Message(body, message_id=uuid.uuid4().hex), routing_key="product")
    finally:
        await connection.close()


@pytest.fixture(scope="module")
async def scraped(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Prometheus]:
    """Prometheus that has scraped the server before, between and after two rounds of
    load, so every counter it shows has moved while it watched."""
    database = scratch_database_url("monitoring")
    recreate_database(database)  # fresh: the start-up catch-up runs the daily report jobs
    server = ServerProcess(database, workers=WORKERS, DB_POOL_SIZE=str(POOL_SIZE)).start()
    vhost = f"tally-monitoring-{uuid.uuid4().hex[:10]}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    bridge = BridgeProcess(f"amqp://guest:guest@127.0.0.1:5672/{vhost}", database)
    prometheus = None
    try:
        bridge.start()
        prometheus = Prometheus(tmp_path_factory.mktemp("prometheus"),
                                prometheus_config_for(server.metrics_addr,
                                                      bridge.metrics_addr))
        await prometheus.wait_until("the tally and tally-amqp targets scraped", lambda: (
            prometheus.value('sum(up{job="tally"})') == 1
            and prometheus.value('sum(tally_amqp_consuming{job="tally-amqp"})') == 1))
        clicks = await load(server.addr, 1)
        await feed_bridge(f"amqp://guest:guest@127.0.0.1:5672/{vhost}", database)
        await prometheus.wait_until("the bridge's messages scraped", lambda: (
            prometheus.value('sum(tally_amqp_messages_total{job="tally-amqp",'
                             'outcome="applied"})') == 1
            and prometheus.value('sum(tally_amqp_dead_letters_total{job="tally-amqp"})') == 1))
        await asyncio.sleep(2.5)  # two scrapes at least between the rounds
        clicks += await load(server.addr, 2)
        # Scraped after the load: the totals are in. Then a few more samples.
        await prometheus.wait_until("the load's clicks scraped", lambda: prometheus.value(
            "sum(tally_clicks_total)") == clicks)
        await asyncio.sleep(2.5)
        prometheus.clicks = clicks  # type: ignore[attr-defined]
        yield prometheus
    finally:
        if prometheus is not None:
            prometheus.stop()
        bridge.stop()
        rabbitmqctl("delete_vhost", vhost)
        assert server.stop() == 0, server.log()


def test_prometheus_scrapes_one_endpoint_for_all_workers(scraped):
    targets = scraped.get("/api/v1/targets")["data"]["activeTargets"]
    assert sorted(t["labels"]["job"] for t in targets) == ["tally", "tally-amqp"], targets
    assert all(t["health"] == "up" for t in targets), targets
    # Every worker's samples are in the one endpoint, summed: each pool counts, and the
    # calls spread over both workers all count.
    assert scraped.value('sum(tally_db_pool_connections{state="max"})') == WORKERS * POOL_SIZE
    assert scraped.value('sum(tally_rpcs_total{method="BookingService.CreateEvent",'
                         'code="OK"})') == 2 * CREATE_EVENTS_PER_ROUND
    assert scraped.value("sum(tally_clicks_total)") == scraped.clicks


def test_every_batcher_and_job_is_seen(scraped):
    batchers = {r["metric"]["batcher"] for r in scraped.query(
        "sum by (batcher) (tally_batch_size_count)")}
    assert batchers == BATCHERS
    outcomes = {(r["metric"].get("job_name"), r["metric"]["outcome"]) for r in scraped.query(
        "sum by (job_name, outcome) (tally_job_runs_total)")}
    assert ("shop.daily_reports", "succeeded") in outcomes, outcomes


def test_readme_describes_every_panel():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("\n## Monitoring\n"):]
    section = section[:section.index("\n## ", 1)]
    missing = [p["title"] for p in dashboard_panels() if f"\n| {p['title']} |" not in section]
    assert not missing, f"README's Monitoring section does not describe {missing}"


def test_the_dashboard_has_queries():
    titles = [title for title, _, _ in dashboard_queries()]
    assert len(titles) >= 10 and len(set(titles)) == len(titles), titles


@pytest.mark.parametrize("title,expr,legend", [pytest.param(*query, id=query[0])
                                               for query in dashboard_queries()])
def test_dashboard_query_returns_data(scraped, title, expr, legend):
    result = scraped.query(as_grafana_sends(expr))
    assert result, f"{title}: no data for {expr}"
    values = [float(r["value"][1]) for r in result]
    assert any(math.isfinite(v) for v in values), f"{title}: only {values} for {expr}"
    # Every label the legend names is on every series (else Grafana shows it empty).
    for label in re.findall(r"\{\{\s*(\w+)\s*\}\}", legend):
        assert all(label in r["metric"] for r in result), f"{title}: no {label} in {result}"
