"""Jobs of the `tally` schema, which every domain shares (the runner takes this module's
JOBS next to the domains')."""

from __future__ import annotations

from datetime import timedelta

from .job import Job

# Idempotency keys are kept for 24 hours (the function's default window) after their
# write; every 10 minutes the older ones are forgotten.
JOBS = [
    Job(name="tally.purge_idempotency_keys",
        sql="select tally.purge_idempotency_keys($1)",
        every=timedelta(minutes=10)),
]
