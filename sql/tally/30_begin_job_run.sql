-- begin_job_run(job, scheduled_for, runner): claim one scheduled run of a job, inside the
-- transaction that will do its work. Returns the run's id, or null when that scheduled
-- time already succeeded (another runner did it: do nothing). If another runner is doing
-- it right now this waits for its transaction, then returns null (it committed) or the
-- claim (it rolled back). Finish with tally.finish_job_run(id) before committing.
create function tally.begin_job_run(p_job text, p_scheduled_for timestamptz, p_runner text)
returns bigint
language plpgsql
security definer
set search_path = tally, pg_temp
as $fn$
declare
    v_id bigint;
begin
    if p_scheduled_for is null then
        perform tally.raise_error('TLIA1', 'SCHEDULED_FOR_REQUIRED',
                                  'the scheduled time is required', 'scheduled_for');
    end if;
    insert into tally.job_runs (job, scheduled_for, started_at, outcome, runner)
    values (p_job, p_scheduled_for, clock_timestamp(), 'running', coalesce(p_runner, ''))
    on conflict (job, scheduled_for) where outcome in ('running', 'succeeded') do nothing
    returning id into v_id;
    return v_id;
end
$fn$;

grant execute on function tally.begin_job_run(text, timestamptz, text) to tally_jobs;
