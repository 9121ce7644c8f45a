"""The benchmarks' own logic that decides what they print: stages, data volumes, the
open-loop rate at scale, verdicts, and the reading of k6's summary."""

from __future__ import annotations

import math

import pytest

from tests.bench import drivers
from tests.bench.k6 import outcome, parse_stages, stages_seconds
from tests.bench.rpcs import (
    Row,
    Spec,
    Volume,
    combine_latencies,
    median_spread,
    open_rate,
    per_call_us,
    reference_ratios,
    scale_base,
    scale_verdicts,
    summarize,
    table,
)
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


def test_median_spread() -> None:
    assert median_spread([]) == ""
    assert median_spread([0.8512]) == "0.85"  # one round: the figure alone, as before
    assert median_spread([0.9, 0.8, 0.85]) == "0.85 (0.80-0.90)"
    assert median_spread([0.8, 0.9]) == "0.85 (0.80-0.90)"  # an even count: the mean of two
    assert median_spread([1234.4, 1300.0], digits=0) == "1267 (1234-1300)"


def test_latencies_over_rounds_are_medians_and_the_slowest_call() -> None:
    assert combine_latencies([(1.0, 2.0, 3.0, 9.0)]) == (1.0, 2.0, 3.0, 9.0)
    assert combine_latencies([(1.0, 5.0, 3.0, 900.0), (2.0, 2.0, 4.0, 10.0),
                              (3.0, 3.0, 30.0, 20.0)]) == (2.0, 3.0, 4.0, 900.0)


def test_cpu_per_call() -> None:
    assert per_call_us(0.5, 2000) == 250.0
    assert per_call_us(0.0, 2000) == 0.0
    assert per_call_us(0.5, 0) is None  # no OK call: nothing to divide by
    row = _row(1000, ok=4000)
    row.server_cpu, row.postgres_cpu = 1.2, 0.4
    assert (row.server_us, row.postgres_us) == (300.0, 100.0)


def _run_row(rpc: str, rate: float, load: str = "64 streams") -> Row:
    row = _row(rate)
    row.rpc, row.load = rpc, load
    return row


SPEC = Spec("X.Y", "/x.Y/Y", "read")


def test_ratios_are_against_the_nearest_noop_runs() -> None:
    # One round: the no-op at the start and at the end; both RPC runs against their mean.
    one = [(_run_row("noop", 1000), None), (_run_row("X.Y", 600), SPEC),
           (_run_row("X.Y", 300), SPEC), (_run_row("noop", 500), None)]
    reference_ratios(one)
    assert [r.ratio for r, _ in one] == [None, 0.8, 0.4, None]
    # Rounds: each run against the no-op just before and just after it, of its own load
    # and driver; the open loop gets none.
    noop_open = _row(2000, (1, 2, 3))
    noop_open.rpc, noop_open.load = "noop", "open 2,000/s"
    open_run = _row(2000, (1, 2, 3))
    rounds = [(_run_row("noop", 1000), None), (noop_open, None),
              (_run_row("X.Y", 500), SPEC), (open_run, SPEC),
              (_run_row("noop", 600), None), (_run_row("noop", 2000, "200 streams"), None),
              (_run_row("X.Y", 300), SPEC), (_run_row("noop", 400), None)]
    reference_ratios(rounds)
    assert [r.ratio for r, s in rounds if s] == [0.625, None, 0.6]


def test_rounds_make_one_row_per_rpc_and_load() -> None:
    timeline = [(_run_row("X.Y", 600), SPEC), (_run_row("X.Y", 900), SPEC),
                (_run_row("X.Y", 700), SPEC), (_run_row("X.Y", 800, "200 streams"), SPEC)]
    for (row, _), ratio in zip(timeline, (0.6, 0.9, 0.7, 0.8), strict=True):
        row.ratio = ratio
    timeline[0][0].verdicts.append("rows exact")
    first, second = summarize(timeline)
    assert (first.load, len(first.runs), second.load, len(second.runs)) == (
        "64 streams", 3, "200 streams", 1)
    assert (first.rate, first.ok, first.verdicts) == (700, 300, ["rows exact"])
    lines = table([first, second], 2000, rounds=3).splitlines()
    assert "calls/s (median of 3)" in lines[0] and "| OK (all rounds) |" in lines[0]
    assert "| X.Y | 64 streams | h2load | 700 | 0.70 (0.60-0.90) | 300 |" in lines[2]
    assert "| 800 | 0.80 | 100 |" in lines[3]


def test_one_round_table_has_max_and_cpu_per_call() -> None:
    noop = _row(2000, (1.0, 2.0, 3.0))
    noop.run.max_ms, noop.server_cpu, noop.postgres_cpu = 812.34, 0.015, 0.0
    lines = table(summarize([(noop, None)]), 2000).splitlines()
    assert lines[0].endswith("| server us/call | PostgreSQL us/call"
                             " | p50 / p95 / p99 / max ms (open 2,000/s) | targets |")
    assert lines[2].endswith("| 0.10 cores | 150 | 0 | 1.0/2.0/3.0/812.3 |  |")


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
