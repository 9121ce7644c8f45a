"""Prometheus metrics, served on METRICS_ADDR.

With several worker processes, prometheus-client's multiprocess mode is used: the
supervisor points PROMETHEUS_MULTIPROC_DIR at a fresh folder before the workers start,
each worker writes its samples there, and the supervisor serves their sum.
"""

from __future__ import annotations

import logging
import os

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
    start_http_server,
)

log = logging.getLogger("tally.metrics")

RPCS = Counter(
    "tally_rpcs_total", "RPCs handled, by method and gRPC status code.", ["method", "code"]
)
RPC_SECONDS = Histogram(
    "tally_rpc_duration_seconds",
    "Time to handle an RPC, by method.",
    ["method"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BATCH_SIZE = Histogram(
    "tally_batch_size",
    "Calls sent to PostgreSQL together in one statement, by batcher.",
    ["batcher"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
)
POOL_CONNECTIONS = Gauge(
    "tally_db_pool_connections",
    "Database pool connections, by state (in_use, idle, max).",
    ["state"],
    multiprocess_mode="livesum",
)
# Not "job": Prometheus sets that label on every sample it scrapes (the scrape job's name)
# and would rename ours to exported_job.
JOB_RUNS = Counter(
    "tally_job_runs_total", "Scheduled job runs, by job name and outcome.",
    ["job_name", "outcome"]
)
# Clicks, not calls: one RecordClicks call may carry 10,000 entries with counts of their own.
CLICKS = Counter(
    "tally_clicks_total", "Banner clicks counted (committed), by RecordClick and RecordClicks."
)
# The AMQP bridge (server/amqp): every message it took off a queue, by how it ended:
# applied (committed, or answered from its idempotency record), dead_lettered (parked in
# <queue>.dead), requeued (a transient failure: back on the queue after a backoff).
AMQP_MESSAGES = Counter(
    "tally_amqp_messages_total", "Messages taken off an AMQP queue, by queue and outcome.",
    ["queue", "outcome"]
)
AMQP_DEAD_LETTERS = Counter(
    "tally_amqp_dead_letters_total", "Messages parked in <queue>.dead, by queue and reason.",
    ["queue", "reason"]
)
AMQP_CONSUMING = Gauge(
    "tally_amqp_consuming", "1 while the AMQP bridge is connected and consuming its queues.",
    multiprocess_mode="livemax"
)
AMQP_REPORTS_PUBLISHED = Counter(
    "tally_amqp_reports_published_total",
    "Report summaries the broker confirmed on the report queue."
)


def serve(addr: str) -> None:
    """Start the metrics HTTP endpoint in a background thread ('' disables it)."""
    if not addr:
        return
    host, _, port = addr.rpartition(":")
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        # prometheus-client leaves this constructor unannotated
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    start_http_server(int(port), addr=host.strip("[]") or "0.0.0.0", registry=registry)
    log.info("metrics on http://%s/metrics", addr)
