"""Scheduled SQL jobs.

A domain module declares its periodic work as `JOBS = [Job(...), ...]`; the server's job
runner (off with --no-jobs) runs each job on its schedule. A job is one SQL statement
that takes one parameter, $1: the scheduled time of the run (timestamptz, UTC); a job
that does not need the time still names $1 (e.g. returns it), so the runner never has to
guess. It must be idempotent: running it twice for the same scheduled time changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta


@dataclass(frozen=True)
class Job:
    name: str                         # "<domain>.<what>", e.g. "segments.expire_memberships"
    sql: str                          # e.g. "select segments.expire_memberships($1)"
    every: timedelta | None = None    # at every multiple of this interval (UTC epoch)
    daily_at: time | None = None      # or once a day at this UTC time
    catch_up: bool = False            # at start-up, run each scheduled time missed since
                                      # the last successful run
    catch_up_window: timedelta = timedelta(days=31)  # ... but none older than this

    def __post_init__(self) -> None:
        if (self.every is None) == (self.daily_at is None):
            raise ValueError(f"job {self.name}: give exactly one of every= and daily_at=")
        if self.every is not None and self.every <= timedelta(0):
            raise ValueError(f"job {self.name}: every= must be positive")
        if "$1" not in self.sql:
            raise ValueError(f"job {self.name}: its SQL must take $1, the scheduled time")
