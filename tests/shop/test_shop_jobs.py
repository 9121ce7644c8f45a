"""The shop's job declarations run as the server runs them: as tally_jobs, idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from server.core.config import JOBS_ROLE, with_user
from server.domains import shop


async def test_jobs_are_declared_as_the_runner_expects():
    jobs = {job.name: job for job in shop.JOBS}
    assert set(jobs) == {"shop.daily_reports", "shop.fold_statistics"}
    assert jobs["shop.daily_reports"].catch_up
    assert jobs["shop.fold_statistics"].every == timedelta(minutes=1)


async def test_fold_job_moves_the_journal_as_the_app_role(database_url, admin_db):
    category = admin_db.execute(
        "insert into shop.categories (name) values ('fold-job') returning id").fetchone()[0]
    admin_db.execute("insert into shop.statistics_journal values (%s, '2031-01-01', 5, 2),"
                     " (%s, '2031-01-01', 1, 1)", (category, category))
    job = next(job for job in shop.JOBS if job.name == "shop.fold_statistics")
    conn = await asyncpg.connect(with_user(database_url, JOBS_ROLE))
    try:
        now = datetime.now(UTC)
        assert await conn.fetchval(job.sql, now) >= 2
        assert await conn.fetchval(job.sql, now) == 0  # nothing left: a second run does nothing
    finally:
        await conn.close()
    assert admin_db.execute(
        "select items_sold, orders_count from shop.statistics_totals where category_id = %s",
        (category,)).fetchone() == (6, 3)
    assert admin_db.execute(
        "select items_sold, orders_count from shop.statistics where category_id = %s",
        (category,)).fetchone() == (6, 3)
