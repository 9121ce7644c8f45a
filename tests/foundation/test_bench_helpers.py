"""The benchmarks' own logic that decides what they print: stages, data volumes, the
open-loop rate at scale, verdicts, and the reading of k6's summary."""

from __future__ import annotations

import math

import pytest

from tests.bench import drivers
from tests.bench.k6 import outcome, parse_stages, stages_seconds
from tests.bench.rpcs import Row, Volume, open_rate, scale_base, scale_verdicts
from tests.bench.segments import export_target


def test_stages_parse_and_add_up() -> None:
    stages = parse_stages("30s:100, 1m:500,1m30s:500,30s:0")
    assert stages == [{"duration": "30s", "target": 100}, {"duration": "1m", "target": 500},
                      {"duration": "1m30s", "target": 500}, {"duration": "30s", "target": 0}]
    assert stages_seconds(stages) == 210


@pytest.mark.parametrize("bad", ["", "30:100", "30s", "30s:-1", "1d:5", "30s:100,"])
def test_malformed_stages_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_stages(bad)


def test_ten_times_the_base_is_the_volume_asked_for() -> None:
    ten = scale_base(1_000_000).times(10)
    assert ten == Volume(users=10_000_000, history=10_000_000, banners=1000, days=40,
                         products=100_000)
    assert scale_base(20_000) == Volume(20_000, 20_000, 2, 40, 200)


def test_open_rate_is_asked_or_half_what_the_closed_loop_reached() -> None:
    assert open_rate(2000, 6000) == 2000
    assert open_rate(2000, 3999) == 1950  # half, rounded down to 50
    assert open_rate(2000, 30) == 50


def _row(rate: float, percentiles: tuple[float, float, float] | None = None,
         ok: int = 100, not_ok: dict[str, int] | None = None) -> Row:
    answered = ok + sum((not_ok or {}).values())
    run = drivers.Run("h2load", answered / rate, answered, answered, 0, 0.1,
                      percentiles_ms=percentiles)
    return Row("X.Y", "64 streams", run, ok, not_ok or {}, 0.0, 0.0)


def test_scale_verdicts() -> None:
    assert scale_verdicts(_row(1000), _row(700)) == ["calls/s >= 0.67x of 1x: met"]
    assert scale_verdicts(_row(1000), _row(600)) == ["calls/s >= 0.67x of 1x: missed"]
    assert scale_verdicts(_row(2000, (1, 2, 3)), _row(2000, (1.5, 2, 4.5))) == [
        "p50/p95/p99 <= 1.5x of 1x: met"]
    assert scale_verdicts(_row(2000, (1, 2, 3)), _row(2000, (1, 3.1, 3))) == [
        "p50/p95/p99 <= 1.5x of 1x: missed"]
    assert scale_verdicts(_row(1000), _row(1000, ok=90, not_ok={"ABORTED": 10}))[0] == (
        "calls not all OK: missed")


def test_export_target() -> None:
    assert export_target(1_000_000) == 5
    assert export_target(10_000_000) == 30


def test_k6_summary_reading() -> None:
    summary = {
        "state": {"testRunDurationMs": 10_000},
        "metrics": {
            "ok_answers": {"values": {"count": 990}},
            "not_ok_answers": {"values": {"count": 10}},
            "vus_max": {"values": {"max": 500}},
            "grpc_req_duration": {
                "values": {"med": 1.0, "p(95)": 150.0, "p(99)": 300.0, "max": 900.0},
                "thresholds": {"p(95)<200": {"ok": True}}},
            "checks": {"values": {"rate": 0.99},
                       "thresholds": {"rate>0.99": {"ok": False}}},
        },
    }
    got = outcome("RecordClick", "1s:1", 0.1, summary, (0.5, 1.0, 0.2))
    assert (got.ok, got.not_ok, got.rate, got.max_vus) == (990, 10, 100.0, 500)
    assert (got.p50_ms, got.p95_ms, got.p99_ms, got.max_ms) == (1.0, 150.0, 300.0, 900.0)
    assert got.thresholds == {"grpc_req_duration p(95)<200": True,
                              "checks rate>0.99": False}
    assert math.isclose(got.failed_share, 0.01)
    assert not got.passed
