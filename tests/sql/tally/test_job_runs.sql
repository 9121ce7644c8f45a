-- Recording job runs: claim, finish, fail, the last success, the published view.
begin;
select plan(12);

-- The job runner's role creates no temporary tables: give it one to fill.
create temp table claimed (id bigint) on commit drop;
grant select, insert on claimed to tally_jobs;
set local role tally_jobs;
insert into claimed select tally.begin_job_run('t.job', '2026-01-01 00:00Z', 'runner-a');
select ok((select id from claimed) is not null, 'a scheduled time is claimed');
select is(tally.begin_job_run('t.job', '2026-01-01 00:00Z', 'runner-b'), null::bigint,
    'the same scheduled time cannot be claimed twice');
select is((select count(*) from tally.job_runs_view where job = 't.job'), 0::bigint,
    'a run still in progress is not in the view');
select ok(tally.finish_job_run((select id from claimed)) is not null, 'the claim is finished');
select throws_ok(format('select tally.finish_job_run(%s)', (select id from claimed)), 'TLNF1',
    null, 'a run is finished once');
select is(tally.begin_job_run('t.job', '2026-01-01 00:00Z', 'runner-b'), null::bigint,
    'a succeeded scheduled time is never claimed again');
select ok(tally.begin_job_run('t.job', '2026-01-01 00:01Z', 'runner-b') is not null,
    'the next scheduled time is claimed');

do $$ begin
    perform tally.record_failed_job_run('t.job', '2026-01-01 00:02Z', now(), 'XX000: boom',
                                        'runner-a');
end $$;
select results_eq(
    $$select scheduled_for, outcome, error, runner from tally.job_runs_view
       where job = 't.job' order by scheduled_for$$,
    $$values ('2026-01-01 00:00Z'::timestamptz, 'succeeded'::text, null::text, 'runner-a'::text),
             ('2026-01-01 00:02Z', 'failed', 'XX000: boom', 'runner-a')$$,
    'the view shows finished runs with their outcome and error');
select ok(tally.begin_job_run('t.job', '2026-01-01 00:02Z', 'runner-b') is not null,
    'a failed scheduled time may be run again');
select is(tally.last_job_success('t.job'), '2026-01-01 00:00Z'::timestamptz,
    'the last success (claims in progress do not count)');
select is(tally.last_job_success('t.nothing'), null::timestamptz, 'no success yet: null');
select throws_ok($$select tally.begin_job_run('t.job', null, 'x')$$, 'TLIA1', null,
    'the scheduled time is required');

select * from finish();
rollback;
