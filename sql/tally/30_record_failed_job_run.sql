-- record_failed_job_run(job, scheduled_for, started_at, error, runner): after the run's
-- own transaction rolled back, keep a row saying it failed and why.
create function tally.record_failed_job_run(p_job text, p_scheduled_for timestamptz,
                                            p_started_at timestamptz, p_error text,
                                            p_runner text)
returns bigint
language sql
security definer
set search_path = tally, pg_temp
as $fn$
    insert into tally.job_runs (job, scheduled_for, started_at, finished_at, outcome, error,
                                runner)
    values (p_job, p_scheduled_for, least(p_started_at, clock_timestamp()), clock_timestamp(),
            'failed', coalesce(nullif(p_error, ''), 'unknown error'), coalesce(p_runner, ''))
    returning id;
$fn$;

grant execute on function tally.record_failed_job_run(text, timestamptz, timestamptz, text, text)
    to tally_jobs;
