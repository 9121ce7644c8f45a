"""The job runner: every domain's scheduled SQL jobs (server/jobs/job.py), once per schedule.

Any number of replicas may run it (a server started with --no-jobs / JOBS=false does not;
with WORKERS > 1 only worker 0 does). Each scheduled time of a job is run like this:

1. take the Redis lock `job:<name>` (server/jobs/lock.py), so one replica works on a job at a
   time; a replica that finds it held skips that time (the holder is doing it);
2. in one transaction on PostgreSQL:
     select tally.check_fence('job:<name>', <fencing token>)  -- refuse a stale holder
     select tally.begin_job_run(job, scheduled_for, runner)   -- null: already done
     <the job's SQL, $1 = the scheduled time>
     select tally.finish_job_run(id)
   A successful run is unique per (job, scheduled time) in tally.job_runs, and the claim
   and the work commit together, so a schedule's work commits exactly once even if two
   runners pass the lock one after the other (or Redis loses it);
3. a failure rolls the work back and is recorded as a 'failed' row with the error;
4. one log line and one tally_job_runs_total{job_name, outcome} increment per attempt.

Outcomes: succeeded, failed, already_done (another runner did it), locked (another
runner holds the lock now), lock_unavailable (Redis did not answer: not run yet). A time
whose lock was unavailable is tried again with backoff (RETRY_DELAYS, at most 10 s apart)
until Redis answers: a catch_up job keeps at it, so a missed daily run happens within
seconds of Redis's return, not at the next start-up; any other job gives up on that time
when its next scheduled time comes due, which supersedes it.

Schedules are in UTC: `every=` fires at each multiple of the interval since the Unix
epoch (every minute at :00, every hour at the top of the hour); `daily_at=` once a day.
Jobs with catch_up=True first run, at start-up, every scheduled time missed since their
last success (at most `Job.catch_up_window` back), oldest first. Other jobs run only
scheduled times that come after start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING

import asyncpg
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from ..core import metrics
from . import lock
from .job import Job

if TYPE_CHECKING:
    from ..core.context import App

log = logging.getLogger("tally.jobs")

# Seconds between tries of a scheduled time whose lock Redis could not give.
RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def collect_jobs(domains: Iterable[ModuleType]) -> list[Job]:
    """JOBS of every domain module; a name declared twice is a mistake worth failing on."""
    jobs: list[Job] = []
    seen: set[str] = set()
    for domain in domains:
        for job in getattr(domain, "JOBS", ()):
            if job.name in seen:
                raise ValueError(f"job {job.name!r} is declared twice")
            seen.add(job.name)
            jobs.append(job)
    return jobs


def next_after(job: Job, t: datetime) -> datetime:
    """The first scheduled time of `job` strictly after `t` (UTC)."""
    if job.every is not None:
        step = job.every
        n = (t - EPOCH) // step
        return EPOCH + (n + 1) * step
    assert job.daily_at is not None
    day = t.astimezone(UTC).date()
    candidate = datetime.combine(day, job.daily_at.replace(tzinfo=UTC))
    return candidate if candidate > t else candidate + timedelta(days=1)


def scheduled_between(job: Job, after: datetime, until: datetime) -> list[datetime]:
    """Scheduled times in (after, until], oldest first."""
    times = []
    t = next_after(job, after)
    while t <= until:
        times.append(t)
        t = next_after(job, t)
    return times


def default_runner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class JobRunner:
    """Runs `jobs` until stop() (or cancellation). `pool` works as tally_jobs."""

    def __init__(self, pool: asyncpg.Pool, redis: aioredis.Redis, jobs: Sequence[Job], *,
                 runner_id: str | None = None, lock_ttl: float = 30.0,
                 clock: Callable[[], datetime] | None = None,
                 retry_delays: Sequence[float] = RETRY_DELAYS) -> None:
        self.pool = pool
        self.redis = redis
        self.jobs = list(jobs)
        self.runner_id = runner_id or default_runner_id()
        self.lock_ttl = lock_ttl
        self.clock = clock or (lambda: datetime.now(UTC))
        self.retry_delays = tuple(retry_delays)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # -- one scheduled time --------------------------------------------------------------

    async def run_once(self, job: Job, scheduled_for: datetime) -> str:
        """Run `job` for one scheduled time; returns the outcome (see the module doc)."""
        lock_name = f"job:{job.name}"
        try:
            held = await lock.acquire(self.redis, lock_name, self.lock_ttl)
        except (RedisError, OSError) as exc:
            return self._record(job, scheduled_for, "lock_unavailable", error=repr(exc))
        if held is None:
            return self._record(job, scheduled_for, "locked")
        keeper = asyncio.ensure_future(self._keep(held))
        try:
            return await self._run_locked(job, scheduled_for, held)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            try:
                await held.release()
            except (RedisError, OSError) as exc:
                log.warning("could not release lock %s: %r (it expires in %.0fs)",
                            lock_name, exc, self.lock_ttl)

    async def _keep(self, held: lock.HeldLock) -> None:
        """Extend the lock while a long job runs (the fence covers a failed extension)."""
        while True:
            await asyncio.sleep(self.lock_ttl / 3)
            try:
                if not await held.extend(self.lock_ttl):
                    return
            except (RedisError, OSError) as exc:
                log.warning("could not extend lock %s: %r", held.name, exc)

    async def _run_locked(self, job: Job, scheduled_for: datetime,
                          held: lock.HeldLock) -> str:
        started = datetime.now(UTC)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.execute("select tally.check_fence($1, $2)", held.name, held.fence)
                run_id = await conn.fetchval("select tally.begin_job_run($1, $2, $3)",
                                             job.name, scheduled_for, self.runner_id)
                if run_id is None:
                    outcome = "already_done"
                else:
                    await conn.execute(job.sql, scheduled_for)
                    await conn.execute("select tally.finish_job_run($1)", run_id)
                    outcome = "succeeded"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the job's own SQL may fail in any way: record it
            error = (f"{exc.sqlstate}: {exc}" if isinstance(exc, asyncpg.PostgresError)
                     and getattr(exc, "sqlstate", None) else f"{type(exc).__name__}: {exc}")
            try:
                await self.pool.execute(
                    "select tally.record_failed_job_run($1, $2, $3, $4, $5)",
                    job.name, scheduled_for, started, error[:2000], self.runner_id)
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as rec_exc:
                log.error("could not record the failure of %s: %r", job.name, rec_exc)
            return self._record(job, scheduled_for, "failed", error=error,
                                seconds=loop.time() - t0, fence=held.fence)
        return self._record(job, scheduled_for, outcome, seconds=loop.time() - t0,
                            fence=held.fence)

    async def run_until_decided(self, job: Job, scheduled_for: datetime,
                                give_up_at: datetime | None = None) -> str:
        """run_once, again with backoff while Redis does not answer (lock_unavailable),
        until another outcome, stop(), or the clock reaching `give_up_at`."""
        attempt = 0
        while True:
            outcome = await self.run_once(job, scheduled_for)
            if outcome != "lock_unavailable" or self._stop.is_set():
                return outcome
            if give_up_at is not None and self.clock() >= give_up_at:
                return outcome
            delay = self.retry_delays[min(attempt, len(self.retry_delays) - 1)]
            attempt += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=delay)

    def _record(self, job: Job, scheduled_for: datetime, outcome: str, *,
                error: str | None = None, seconds: float | None = None,
                fence: int | None = None) -> str:
        metrics.JOB_RUNS.labels(job.name, outcome).inc()
        # One line per attempt, whatever its outcome.
        level = {"failed": logging.ERROR,
                 "lock_unavailable": logging.WARNING}.get(outcome, logging.INFO)
        log.log(level, "job %s for %s: %s", job.name, scheduled_for.isoformat(), outcome,
                extra={"job": job.name, "scheduled_for": scheduled_for.isoformat(),
                       "outcome": outcome, "error": error, "runner": self.runner_id,
                       "seconds": None if seconds is None else round(seconds, 4),
                       "fence": fence})
        return outcome

    # -- schedules -------------------------------------------------------------------------

    async def catch_up(self, job: Job, now: datetime | None = None) -> list[datetime]:
        """Run each scheduled time of `job` missed since its last success (bounded by
        job.catch_up_window), oldest first; returns the times attempted."""
        now = now or self.clock()
        since = now - job.catch_up_window
        last = await self.pool.fetchval("select tally.last_job_success($1)", job.name)
        if last is not None and last > since:
            since = last
        times = scheduled_between(job, since, now)
        attempted = []
        for t in times:
            if self._stop.is_set():
                break
            attempted.append(t)
            await self.run_until_decided(job, t)  # Redis down: wait for it, then go on
        return attempted

    async def _job_loop(self, job: Job) -> None:
        start = self.clock()
        if job.catch_up:
            try:
                await self.catch_up(job, start)
            except Exception:  # the loop must live on: the next scheduled time may work
                log.exception("catch-up of %s failed", job.name)
        # From the start-up time, not from the end of the catch-up: a time that came due
        # while catching up is run next, not lost.
        t = next_after(job, start)
        while not self._stop.is_set():
            delay = (t - self.clock()).total_seconds()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=delay)
                if self._stop.is_set():
                    return
                continue  # woken early (the clock is coarse): check again
            try:
                # A catch_up job runs every time, however late; another job's time is
                # superseded by its next one.
                await self.run_until_decided(
                    job, t, None if job.catch_up else next_after(job, t))
            except Exception:
                log.exception("job %s for %s could not run", job.name, t.isoformat())
            # catch_up jobs run every scheduled time even if a run overran the next one;
            # the others skip to the next time still ahead.
            t = next_after(job, t if job.catch_up else max(t, self.clock()))

    def start(self) -> None:
        for job in self.jobs:
            task = asyncio.ensure_future(self._job_loop(job))
            task.set_name(f"job:{job.name}")
            self._tasks.append(task)
        if self.jobs:
            log.info("job runner started", extra={"jobs": [j.name for j in self.jobs],
                                                  "runner": self.runner_id})

    async def stop(self, grace: float = 10.0) -> None:
        """Let a run in progress finish (up to `grace` seconds), then cancel."""
        self._stop.set()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=grace)
        for task in pending:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()


async def start(app: App, domains: Iterable[ModuleType]) -> JobRunner:
    """Start the runner for every domain's JOBS inside a server; it stops (letting a run
    in progress finish within the grace period) when the server shuts down."""
    client = aioredis.Redis.from_url(app.settings.redis_url, socket_timeout=2.0,
                                     socket_connect_timeout=2.0, health_check_interval=30)
    # The jobs' own role and pool: the RPC path's role may not run job functions.
    # min_size=0: a server starts even while PostgreSQL is down; runs retry as usual.
    pool = await asyncpg.create_pool(app.settings.jobs_database_url, min_size=0, max_size=2,
                                     server_settings={"application_name": "tally-jobs"})
    runner = JobRunner(pool, client, collect_jobs(domains))
    runner.start()

    async def stop() -> None:
        await runner.stop(app.settings.grace_seconds)
        await client.aclose()
        await pool.close()

    app.on_shutdown(stop)
    return runner
