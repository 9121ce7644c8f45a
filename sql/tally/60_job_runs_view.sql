-- job_runs_view: every recorded run of a scheduled job, for operators (tally_operator)
-- and the job runner (tally_jobs):
--   select * from tally.job_runs_view where job = 'shop.daily_reports'
--    order by scheduled_for desc limit 10;
create view tally.job_runs_view as
select id, job, scheduled_for, started_at, finished_at, outcome, error, runner,
       finished_at - started_at as duration
  from tally.job_runs
 where outcome <> 'running';

grant select on tally.job_runs_view to tally_jobs;
