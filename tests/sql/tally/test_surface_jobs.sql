-- tally's functions (errors, fencing tokens, job runs): the error helpers every schema's
-- functions call (no grant), the job runner's (tally_jobs), not the application role's
-- but for authenticate_api_key and remember_failure;
-- and its view. API keys: see test_api_keys.sql.
begin;
select plan(6);

select functions_are('tally', array[
    '_idempotent_claim', '_idempotent_finish', '_idempotent_keep', '_idempotent_key_valid',
    '_idempotent_lock',
    '_idempotent_plan', '_idempotent_record', '_idempotent_requests', '_idempotent_token',
    '_pick', '_remember_failure',
    'authenticate_api_key', 'begin_job_run', 'check_fence', 'check_id',
    'create_api_key', 'finish_job_run', 'last_job_success', 'raise_error', 'raise_not_found',
    'purge_idempotency_keys', 'record_failed_job_run', 'remember_failure', 'revoke_api_key',
    '_check_page_size', 'tg_cached_rows__announce']);
select is(
    array(select p.proname::text from pg_proc p
           where p.pronamespace = 'tally'::regnamespace
             and has_function_privilege('tally_jobs', p.oid, 'EXECUTE') order by 1),
    array['begin_job_run', 'check_fence', 'finish_job_run', 'last_job_success',
          'purge_idempotency_keys', 'record_failed_job_run'],
    'tally_jobs may execute exactly the job-run, fencing and key purge functions');
select is(
    array(select p.proname::text from pg_proc p
           where p.pronamespace = 'tally'::regnamespace
             and has_function_privilege('tally_app', p.oid, 'EXECUTE') order by 1),
    array['authenticate_api_key', 'remember_failure'],
    'tally_app may execute none of them, only ask for an API key''s scopes and record a '
    'keyed call''s failure (whose token only the database can make: test_remember_failure.sql)');
select tables_are('tally', array['api_keys', 'fences', 'idempotency_keys', 'idempotency_secret',
                                 'job_runs']);
select views_are('tally', array['job_runs_view']);
select ok(has_table_privilege('tally_jobs', 'tally.job_runs_view', 'SELECT')
          and not has_table_privilege('tally_jobs', 'tally.job_runs_view', 'INSERT')
          and not has_table_privilege('tally_app', 'tally.job_runs_view', 'SELECT'),
    'tally_jobs (and so tally_operator) reads the job runs view, and only reads it');

select * from finish();
rollback;
