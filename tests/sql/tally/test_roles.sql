-- Roles by duty. Each role's executable functions, exactly, over every schema tally_owner
-- owns (a new function cannot silently widen a role), and what tally_app, the role psql
-- users are given, is refused: each attack on the jobs' bookkeeping fails with 42501.
begin;
select plan(27);

create temp table executable on commit drop as
select r.role, format('%s.%s', n.nspname, p.proname) as fn
  from pg_proc p
  join pg_namespace n on n.oid = p.pronamespace
 cross join (values ('tally_app'), ('tally_jobs'), ('tally_operator')) r(role)
 where pg_get_userbyid(n.nspowner) = 'tally_owner'
   and has_function_privilege(r.role, p.oid, 'EXECUTE');
grant select on executable to public;

select set_eq($$select fn from executable where role = 'tally_jobs'$$,
    array['tally.check_fence', 'tally.begin_job_run', 'tally.finish_job_run',
          'tally.record_failed_job_run', 'tally.last_job_success',
          'clicks.maintain_partitions', 'segments.expire_memberships',
          'shop.generate_daily_reports', 'shop.fold_statistics',
          'tally.purge_idempotency_keys', 'shop.mark_reports_published'],
    'tally_jobs executes exactly the job and maintenance functions (and the AMQP bridge''s '
    'record of published report summaries)');
select set_eq($$select fn from executable where role = 'tally_operator'$$,
              $$select fn from executable where role = 'tally_jobs'
                union all select 'tally.create_api_key' union all select 'tally.revoke_api_key'$$,
    'tally_operator may run by hand exactly what the job runner runs, and manage API keys');
select ok(not exists (select 1 from executable where role in ('tally_app', 'tally_jobs')
                        and fn in ('tally.create_api_key', 'tally.revoke_api_key')),
    'neither tally_app nor tally_jobs may create or revoke API keys');
select is((select count(*) from executable a join executable j using (fn)
            where a.role = 'tally_app' and j.role = 'tally_jobs'), 0::bigint,
    'no function is both the application''s and the job runner''s');
select set_eq($$select fn from executable where role = 'tally_app'
                   and not fn like any (array['booking.%', 'clicks.%', 'segments.%', 'shop.%'])$$,
    array['tally.authenticate_api_key', 'tally.remember_failure'],
    'tally_app executes domain API functions (each schema''s surface test lists them), '
    'asks for an API key''s scopes and records a keyed call''s failure, nothing else');

select ok(not pg_has_role('tally_app', 'tally_jobs', 'MEMBER'), 'tally_app cannot become tally_jobs');
select ok(not pg_has_role('tally_app', 'tally_operator', 'MEMBER'), 'nor tally_operator');
select ok(pg_has_role('tally_operator', 'tally_jobs', 'USAGE'), 'tally_operator acts as tally_jobs');
select ok((select not rolcanlogin from pg_roles where rolname = 'tally_operator'),
    'tally_operator cannot log in: grant it to a person''s own role');

select ok(not has_database_privilege('public', current_database(), 'CONNECT'),
    'PUBLIC may not connect');
select ok(not has_database_privilege('public', current_database(), 'TEMPORARY'),
    'PUBLIC may not create temporary tables');
select ok(has_database_privilege('tally_app', current_database(), 'CONNECT')
          and has_database_privilege('tally_app', current_database(), 'TEMPORARY'),
    'tally_app connects and may stage data in temporary tables');
select ok(has_database_privilege('tally_jobs', current_database(), 'CONNECT')
          and not has_database_privilege('tally_jobs', current_database(), 'TEMPORARY'),
    'tally_jobs connects, and needs no temporary tables');

-- The attacks, as a psql user logged in as tally_app would make them.
set local role tally_app;
select throws_ok($$select clicks.maintain_partitions('2100-01-01')$$, '42501', null,
    'tally_app cannot drop click partitions');
select throws_ok($$select tally.check_fence('job:segments.expire_memberships', 9223372036854775807)$$,
    '42501', null, 'nor poison a job''s fence');
select throws_ok($$select tally.begin_job_run('shop.daily_reports', '2100-01-01', 'forged')$$,
    '42501', null, 'nor claim a future run');
select throws_ok($$select tally.finish_job_run(1)$$, '42501', null, 'nor finish one');
select throws_ok($$select tally.record_failed_job_run('shop.daily_reports', now(), now(), 'forged', 'x')$$,
    '42501', null, 'nor forge job history');
select throws_ok($$select shop.generate_daily_reports('2000-01-01')$$, '42501', null,
    'nor freeze a daily report');
select throws_ok($$select shop.fold_statistics()$$, '42501', null, 'nor fold the statistics');
select throws_ok($$select segments.expire_memberships(now())$$, '42501', null,
    'nor run the expiry sweep');
select throws_ok($$select tally.create_api_key('mine', array['*'])$$, '42501', null,
    'nor mint itself an API key');
select throws_ok($$select id from tally.api_keys$$, '42501', null,
    'nor read the API keys'' hashes');
select throws_ok($$select outcome from tally.idempotency_keys$$, '42501', null,
    'nor read the idempotency keys'' recorded outcomes');
select throws_ok($$insert into tally.idempotency_keys (scope, key, request_hash)
                   values ('', 'forged', sha256(''))$$, '42501', null,
    'nor record an outcome for a key itself');
select throws_ok($$delete from tally.idempotency_keys$$, '42501', null,
    'nor forget keys, so that a retry would write again');
select throws_ok($$select tally.purge_idempotency_keys(now(), interval '0')$$, '42501', null,
    'nor run the purge of keys');
reset role;

select * from finish();
rollback;
