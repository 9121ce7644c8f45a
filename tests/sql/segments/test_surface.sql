-- segments' functions: the API (executable by tally_app) and the private rest.
begin;
select plan(4);

select functions_are('segments', array[
    '_auto_bucket', '_auto_member', '_check_slug', '_derived_adds',
    '_derived_memberships', '_end_expired', '_lock_user',
    'create_segment', 'create_user',
    'delete_segment', 'delete_user', 'expire_memberships', 'export_history',
    'update_user_segments', 'update_user_segments_batch', 'user_segments',
    'user_segments_batch']);
select is(
    array(select p.proname::text from pg_proc p
           where p.pronamespace = 'segments'::regnamespace
             and has_function_privilege('tally_app', p.oid, 'EXECUTE') order by 1),
    array['create_segment', 'create_user', 'delete_segment', 'delete_user',
          'export_history', 'update_user_segments', 'update_user_segments_batch',
          'user_segments', 'user_segments_batch'],
    'tally_app may execute exactly the API functions');
select tables_are('segments', array['history', 'memberships', 'opt_outs', 'segments', 'users']);
select enum_has_labels('segments', 'operation', array['add', 'remove']);

select * from finish();
rollback;
