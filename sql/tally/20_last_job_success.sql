-- last_job_success(job): the latest scheduled time of the job that succeeded (null if
-- none); the runner catches up from there at start-up.
create function tally.last_job_success(p_job text)
returns timestamptz
language sql
stable
security definer
set search_path = tally, pg_temp
as $fn$
    select max(scheduled_for) from tally.job_runs where job = p_job and outcome = 'succeeded';
$fn$;

grant execute on function tally.last_job_success(text) to tally_jobs;
