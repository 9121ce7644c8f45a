-- Fencing tokens and the record of scheduled job runs (issue 6), shared by every domain.
-- depends: 0001.foundation

-- The highest fencing token each lock name has presented. Work protected by a Redis lock
-- calls tally.check_fence(name, token) in its own transaction: a holder whose lock expired
-- while it paused presents a lower token than its successor and is refused.
create table tally.fences (
    name       text        primary key,
    token      bigint      not null,
    updated_at timestamptz not null default now(),
    constraint fences_name_length check (char_length(name) between 1 and 200),
    constraint fences_token_positive check (token > 0)
);

-- One row per attempt of a scheduled job. A 'running' row exists only inside the
-- transaction that does the job's work (it becomes 'succeeded' before that commits), so
-- the partial unique index makes a schedule's work commit at most once, whatever the
-- number of runners and whatever the Redis lock did.
create table tally.job_runs (
    id            bigint      generated always as identity primary key,
    job           text        not null,
    scheduled_for timestamptz not null,
    started_at    timestamptz not null,
    finished_at   timestamptz,
    outcome       text        not null,
    error         text,
    runner        text        not null,
    constraint job_runs_job_length check (char_length(job) between 1 and 200),
    constraint job_runs_outcome_valid check (outcome in ('running', 'succeeded', 'failed')),
    constraint job_runs_finished_when_done check ((outcome = 'running') = (finished_at is null)),
    constraint job_runs_finished_after_started check (finished_at >= started_at),
    constraint job_runs_error_when_failed check ((outcome = 'failed') = (error is not null))
);

create unique index job_runs_once_per_schedule on tally.job_runs (job, scheduled_for)
    where outcome in ('running', 'succeeded');
create index job_runs_job_scheduled_for_idx on tally.job_runs (job, scheduled_for desc);
