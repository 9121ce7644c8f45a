"""The job runner: schedules, exactly-once runs with two runners on one Redis and one
database, a lock passed from one runner to the next, failures, stale fencing tokens and
catch-up. Test-only jobs write into guard_test.ticks, which has no unique constraint, so
a double run would show as a duplicate row."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from prometheus_client import REGISTRY

from server.jobs.job import Job
from server.jobs.runner import JobRunner, collect_jobs, next_after, scheduled_between


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def ticks(admin_db) -> None:
    admin_db.execute("""
        create schema if not exists guard_test;
        create table if not exists guard_test.ticks (
            job text not null, scheduled_for timestamptz not null,
            written_at timestamptz not null default clock_timestamp());
        grant usage on schema guard_test to tally_jobs;
        grant insert, select on guard_test.ticks to tally_jobs;
    """)


def tick_job(**kw) -> Job:
    name = kw.pop("name", None) or f"guard_test.tick_{uuid.uuid4().hex[:8]}"
    kw.setdefault("every", timedelta(seconds=1))
    return Job(name=name, sql="insert into guard_test.ticks (job, scheduled_for)"
                              f" values ('{name}', $1)", **kw)


def ticks_of(admin_db, job: Job) -> list[datetime]:
    return [r[0] for r in admin_db.execute(
        "select scheduled_for from guard_test.ticks where job = %s order by 1", (job.name,))]


def runs_of(admin_db, job: Job) -> list[tuple]:
    return admin_db.execute(
        "select scheduled_for, outcome, error, runner from tally.job_runs_view"
        " where job = %s order by scheduled_for, id", (job.name,)).fetchall()


def counted(job: Job, outcome: str) -> float:
    return REGISTRY.get_sample_value("tally_job_runs_total",
                                     {"job_name": job.name, "outcome": outcome}) or 0.0


# -- schedules ---------------------------------------------------------------------------

def test_every_is_aligned_to_the_epoch():
    job = Job("t.every", "select $1", every=timedelta(minutes=5))
    assert next_after(job, at("2026-03-01 10:02:30")) == at("2026-03-01 10:05:00")
    assert next_after(job, at("2026-03-01 10:05:00")) == at("2026-03-01 10:10:00")
    assert scheduled_between(job, at("2026-03-01 10:00:00"), at("2026-03-01 10:15:00")) == [
        at("2026-03-01 10:05:00"), at("2026-03-01 10:10:00"), at("2026-03-01 10:15:00")]


def test_daily_at_is_utc():
    job = Job("t.daily", "select $1", daily_at=time(0, 0))
    assert next_after(job, at("2026-03-01 00:00:00")) == at("2026-03-02 00:00:00")
    assert next_after(job, at("2026-03-01 23:59:59")) == at("2026-03-02 00:00:00")
    later = Job("t.daily2", "select $1", daily_at=time(6, 30))
    assert next_after(later, at("2026-03-01 01:00:00")) == at("2026-03-01 06:30:00")


def test_jobs_are_collected_from_every_domain():
    a = Job("a.one", "select $1", every=timedelta(minutes=1))
    b = Job("b.two", "select $1", daily_at=time(0, 0))
    domains = [SimpleNamespace(JOBS=[a]), SimpleNamespace(), SimpleNamespace(JOBS=(b,))]
    assert collect_jobs(domains) == [a, b]
    with pytest.raises(ValueError, match="declared twice"):
        collect_jobs([SimpleNamespace(JOBS=[a]), SimpleNamespace(JOBS=[a])])
    with pytest.raises(ValueError):
        Job("bad", "select $1")
    with pytest.raises(ValueError):
        Job("bad", "select $1", every=timedelta(0))


# -- one scheduled time ------------------------------------------------------------------

async def test_a_run_is_recorded_logged_and_counted(ticks, admin_db, pool, aredis):
    job = tick_job()
    runner = JobRunner(pool, aredis, [job], runner_id="runner-a")
    t = at("2026-03-01 10:00:00")
    assert await runner.run_once(job, t) == "succeeded"
    assert ticks_of(admin_db, job) == [t]
    assert runs_of(admin_db, job) == [(t, "succeeded", None, "runner-a")]
    assert counted(job, "succeeded") == 1


async def test_the_lock_passed_on_does_not_repeat_a_run(ticks, admin_db, pool, pool2, aredis,
                                                        aredis2):
    """Two runners pass the lock one after the other for the same scheduled time: the
    second finds it done in SQL (the Redis lock alone would have let it run again)."""
    job = tick_job()
    a = JobRunner(pool, aredis, [job], runner_id="a")
    b = JobRunner(pool2, aredis2, [job], runner_id="b")
    t = at("2026-03-01 10:00:01")
    assert await a.run_once(job, t) == "succeeded"
    assert await b.run_once(job, t) == "already_done"
    assert ticks_of(admin_db, job) == [t]
    assert counted(job, "already_done") == 1


async def test_concurrent_runners_one_scheduled_time(ticks, admin_db, pool, pool2, aredis,
                                                     aredis2):
    job = tick_job()
    runners = [JobRunner(pool, aredis, [job], runner_id="a"),
               JobRunner(pool2, aredis2, [job], runner_id="b")]
    t = at("2026-03-01 10:00:02")
    outcomes = await asyncio.gather(*(r.run_once(job, t) for r in runners * 5))
    assert outcomes.count("succeeded") == 1
    assert set(outcomes) <= {"succeeded", "locked", "already_done"}
    assert ticks_of(admin_db, job) == [t]


def test_a_job_must_take_its_scheduled_time():
    with pytest.raises(ValueError, match=r"\$1"):
        Job("guard_test.noparam", "insert into guard_test.ticks (job, scheduled_for)"
                                  " values ('noparam', '2000-01-01Z')", every=timedelta(minutes=1))


async def test_a_job_may_pass_its_scheduled_time_through(ticks, admin_db, pool, aredis):
    """A job that does not need the time names $1 anyway; the runner always passes it."""
    name = f"guard_test.passthrough_{uuid.uuid4().hex[:8]}"
    job = Job(name, f"insert into guard_test.ticks (job, scheduled_for) select '{name}',"
                    " '2000-01-01Z' from (select $1::timestamptz) as run (scheduled_for)",
              every=timedelta(minutes=1))
    runner = JobRunner(pool, aredis, [job], runner_id="a")
    assert await runner.run_once(job, at("2026-03-01 10:00:00")) == "succeeded"
    assert ticks_of(admin_db, job) == [at("2000-01-01 00:00:00")]


async def test_a_failing_job_is_rolled_back_and_recorded(ticks, admin_db, pool, aredis):
    name = f"guard_test.fail_{uuid.uuid4().hex[:8]}"
    # Writes its row, then divides by zero in the same statement: nothing may remain.
    job = Job(name, "insert into guard_test.ticks (job, scheduled_for)"
                    f" values ('{name}', $1), ('{name}', $1 + make_interval("
                    "secs => 1 / (extract(epoch from $1) - extract(epoch from $1))))",
              every=timedelta(seconds=1))
    runner = JobRunner(pool, aredis, [job], runner_id="a")
    t = at("2026-03-01 10:00:03")
    assert await runner.run_once(job, t) == "failed"
    assert ticks_of(admin_db, job) == []
    [(when, outcome, error, who)] = runs_of(admin_db, job)
    assert (when, outcome, who) == (t, "failed", "a")
    assert error.startswith("22012")
    assert counted(job, "failed") == 1
    # The scheduled time may be run again once the job is fixed.
    fixed = tick_job(name=name)
    assert await runner.run_once(fixed, t) == "succeeded"
    assert ticks_of(admin_db, job) == [t]


async def test_a_stale_fencing_token_stops_the_work(ticks, admin_db, pool, aredis):
    """A holder whose token is older than one PostgreSQL has seen does nothing."""
    job = tick_job()
    admin_db.execute("insert into tally.fences (name, token) values (%s, %s)",
                     (f"job:{job.name}", 2**62))
    runner = JobRunner(pool, aredis, [job], runner_id="a")
    t = at("2026-03-01 10:00:04")
    assert await runner.run_once(job, t) == "failed"
    assert ticks_of(admin_db, job) == []
    [(_, outcome, error, _)] = runs_of(admin_db, job)
    assert outcome == "failed" and "stale" in error and error.startswith("TLFP1")


async def test_locked_by_another_replica_is_skipped(ticks, admin_db, pool, aredis):
    from server.jobs import lock

    job = tick_job()
    held = await lock.acquire(aredis, f"job:{job.name}", 30)
    runner = JobRunner(pool, aredis, [job], runner_id="a")
    assert await runner.run_once(job, at("2026-03-01 10:00:05")) == "locked"
    await held.release()
    assert ticks_of(admin_db, job) == []


# -- two runners on their schedules ------------------------------------------------------

async def test_two_runners_run_each_scheduled_time_exactly_once(ticks, admin_db, pool, pool2,
                                                                aredis, aredis2):
    job = tick_job()
    runners = [JobRunner(pool, aredis, [job], runner_id="a"),
               JobRunner(pool2, aredis2, [job], runner_id="b")]
    started = datetime.now(UTC)
    for r in runners:
        r.start()
    for _ in range(1000):  # until five scheduled seconds have been done (at most ~10 s)
        if len(ticks_of(admin_db, job)) >= 5:
            break
        await asyncio.sleep(0.01)
    await asyncio.gather(*(r.stop() for r in runners))
    stopped = datetime.now(UTC)
    done = ticks_of(admin_db, job)
    assert len(done) >= 5
    assert len(set(done)) == len(done), "no scheduled time ran twice"
    assert all(b - a == timedelta(seconds=1) for a, b in itertools.pairwise(done)), (
        "no scheduled time was missed")
    assert started < done[0] <= started + timedelta(seconds=2)
    assert done[-1] <= stopped
    runs = runs_of(admin_db, job)
    assert [r[0] for r in runs] == done and {r[1] for r in runs} == {"succeeded"}


# -- catch-up ----------------------------------------------------------------------------

async def test_catch_up_runs_every_time_missed_since_the_last_success(ticks, admin_db, pool,
                                                                      aredis):
    job = tick_job(every=timedelta(minutes=1), catch_up=True)
    runner = JobRunner(pool, aredis, [job], runner_id="a")
    last = at("2026-03-01 10:00:00")
    assert await runner.run_once(job, last) == "succeeded"
    now = at("2026-03-01 10:05:30")
    times = await runner.catch_up(job, now)
    expected = [last + timedelta(minutes=i) for i in range(1, 6)]
    assert times == expected
    assert ticks_of(admin_db, job) == [last, *expected]
    # A second runner starting at the same moment catches up nothing twice.
    assert await JobRunner(pool, aredis, [job], runner_id="b").catch_up(job, now) == []
    assert ticks_of(admin_db, job) == [last, *expected]


async def test_catch_up_is_bounded_by_its_window(ticks, admin_db, pool, aredis):
    job = tick_job(every=None, daily_at=time(0, 0), catch_up=True,
                   catch_up_window=timedelta(days=3))
    runner = JobRunner(pool, aredis, [job], runner_id="a")
    now = at("2026-03-10 12:00:00")
    await runner.catch_up(job, now)
    assert ticks_of(admin_db, job) == [at("2026-03-08"), at("2026-03-09"), at("2026-03-10")]


async def test_catch_up_happens_when_the_runner_starts(ticks, admin_db, pool, aredis):
    job = tick_job(every=timedelta(hours=1), catch_up=True, catch_up_window=timedelta(hours=3))
    runner = JobRunner(pool, aredis, [job], runner_id="a")
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    runner.start()
    for _ in range(1000):
        if len(ticks_of(admin_db, job)) >= 3:
            break
        await asyncio.sleep(0.01)
    await runner.stop()
    assert ticks_of(admin_db, job)[:3] == [hour - timedelta(hours=2), hour - timedelta(hours=1),
                                           hour]


async def test_without_redis_nothing_runs_and_the_time_is_tried_again(ticks, admin_db, pool):
    import redis.asyncio as aioredis

    from tests.support import free_port

    dead = aioredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0",
                                   socket_connect_timeout=1)
    job = tick_job(every=timedelta(minutes=1), catch_up=True,
                   catch_up_window=timedelta(minutes=10))
    runner = JobRunner(pool, dead, [job], runner_id="a", retry_delays=(0.05,))
    assert await runner.run_once(job, at("2026-03-01 10:00:00")) == "lock_unavailable"
    catching_up = asyncio.ensure_future(runner.catch_up(job, at("2026-03-01 12:00:00")))
    for _ in range(400):
        if counted(job, "lock_unavailable") >= 4:
            break
        await asyncio.sleep(0.01)
    await runner.stop()
    assert len(await catching_up) == 1, "catch-up waits at its first time while Redis is down"
    assert ticks_of(admin_db, job) == [] and runs_of(admin_db, job) == []
    assert counted(job, "lock_unavailable") >= 4
    await dead.aclose()


async def test_a_time_missed_while_redis_was_down_runs_once_it_is_back(ticks, admin_db, pool,
                                                                       tmp_path):
    """Redis down at start-up: the catch-up of a daily-style job waits, retrying, and
    runs every missed time within seconds of Redis answering, not at the next start."""
    import subprocess

    import redis.asyncio as aioredis

    from tests.support import free_port

    port = free_port()
    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=0.5,
                                     socket_timeout=0.5)
    job = tick_job(every=timedelta(hours=1), catch_up=True, catch_up_window=timedelta(hours=3))
    runner = JobRunner(pool, client, [job], runner_id="a", retry_delays=(0.1, 0.2))
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    runner.start()
    server = None
    try:
        for _ in range(300):
            if counted(job, "lock_unavailable") >= 2:
                break
            await asyncio.sleep(0.01)
        assert ticks_of(admin_db, job) == []
        server = subprocess.Popen(  # noqa: ASYNC220 - returns at once; the loop goes on
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
        for _ in range(1000):
            if len(ticks_of(admin_db, job)) >= 3:
                break
            await asyncio.sleep(0.01)
    finally:
        await runner.stop()
        await client.aclose()
        if server is not None:
            server.terminate()
            server.wait()
    assert ticks_of(admin_db, job)[:3] == [hour - timedelta(hours=2), hour - timedelta(hours=1),
                                           hour]


async def test_runner_without_jobs_starts_and_stops(pool, aredis):
    runner = JobRunner(pool, aredis, [])
    runner.start()
    await runner.stop()



# -- inside the server -------------------------------------------------------------------

async def test_the_server_runs_every_domains_jobs_and_stops_them(ticks, admin_db, database_url,
                                                                 monkeypatch):
    """server.app.serve() collects JOBS from DOMAINS, runs them, and stops the runner on
    shutdown (run in this process so a test-only domain can be added)."""
    import signal

    from server import app as app_module
    from server.core.config import APP_ROLE, JOBS_ROLE, Settings, with_user
    from tests.support import TEST_REDIS_URL

    job = tick_job()
    domain = SimpleNamespace(JOBS=[job], add_services=lambda server, app: [])
    monkeypatch.setattr(app_module, "DOMAINS", (*app_module.DOMAINS, domain))
    settings = Settings(database_url=database_url,
                        app_database_url=with_user(database_url, APP_ROLE),
                        jobs_database_url=with_user(database_url, JOBS_ROLE),
                        redis_url=TEST_REDIS_URL, grpc_addr="127.0.0.1:0", grace_seconds=2)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    serving = asyncio.ensure_future(app_module.serve(settings, stop=stop))
    try:
        for _ in range(1000):
            if len(ticks_of(admin_db, job)) >= 2 or serving.done():
                break
            await asyncio.sleep(0.01)
        assert len(ticks_of(admin_db, job)) >= 2
        assert [t for t in asyncio.all_tasks() if t.get_name() == f"job:{job.name}"]
    finally:
        stop.set()
        await asyncio.wait_for(serving, 30)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    assert not [t for t in asyncio.all_tasks() if t.get_name() == f"job:{job.name}"], (
        "the runner stopped with the server")
    done = ticks_of(admin_db, job)
    assert len(set(done)) == len(done)
