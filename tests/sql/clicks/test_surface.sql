-- clicks' functions: the API (executable by tally_app) and the tables behind it.
begin;
select plan(4);

select functions_are('clicks', array[
    'create_banner', 'get_banner', 'ingest_clicks', 'list_banners', 'maintain_partitions',
    'record_click', 'record_clicks', 'stats']);
select is(
    array(select p.proname::text from pg_proc p
           where p.pronamespace = 'clicks'::regnamespace
             and has_function_privilege('tally_app', p.oid, 'EXECUTE') order by 1),
    array['create_banner', 'get_banner', 'ingest_clicks', 'list_banners',
          'record_click', 'record_clicks', 'stats'],
    'tally_app may execute exactly the API functions (maintenance is tally_jobs''s)');
select ok((select count(*) from pg_tables where schemaname = 'clicks'
            and tablename not in ('banners', 'settings', 'minute_counts', 'minute_counts_default')
            and tablename !~ '^minute_counts_p[0-9]{8}$') = 0,
    'clicks holds banners, settings and the minute_counts partitions only');
select is((select count(*) from clicks.settings), 1::bigint, 'one settings row');

select * from finish();
rollback;
