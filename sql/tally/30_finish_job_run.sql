-- finish_job_run(id): mark a claimed run succeeded, at the end of its transaction.
create function tally.finish_job_run(p_id bigint)
returns timestamptz
language plpgsql
security definer
set search_path = tally, pg_temp
as $fn$
declare
    v_finished timestamptz;
begin
    update tally.job_runs set outcome = 'succeeded', finished_at = clock_timestamp()
     where id = p_id and outcome = 'running'
    returning finished_at into v_finished;
    if v_finished is null then
        perform tally.raise_error('TLNF1', 'JOB_RUN_NOT_FOUND',
                                  format('no running job run %s', p_id), 'id');
    end if;
    return v_finished;
end
$fn$;

grant execute on function tally.finish_job_run(bigint) to tally_jobs;
