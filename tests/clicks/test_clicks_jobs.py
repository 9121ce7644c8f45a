"""The clicks job declarations run as the server runs them: as tally_jobs, $1 = the
scheduled time, idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from server.core.config import JOBS_ROLE, with_user
from server.domains import clicks


async def test_jobs_run_as_the_app_role_and_are_idempotent(database_url, admin_db):
    assert [job.name for job in clicks.JOBS] == ["clicks.maintain_partitions"]
    job = clicks.JOBS[0]
    at = datetime.now(UTC) + timedelta(days=2)  # two new days ahead to create
    conn = await asyncpg.connect(with_user(database_url, JOBS_ROLE))
    try:
        assert await conn.fetchval(job.sql, at) >= 2
        assert await conn.fetchval(job.sql, at) == 0  # same scheduled time: nothing to do
    finally:
        await conn.close()
    ahead = (at + timedelta(days=7)).strftime("%Y%m%d")
    assert admin_db.execute("select to_regclass(%s) is not null",
                            (f"clicks.minute_counts_p{ahead}",)).fetchone()[0]
