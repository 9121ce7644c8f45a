-- clicks.ingest_clicks: bulk, all or nothing, the bad entry named by its 0-based index.
begin;
set local role tally_app;
select plan(11);

create temp table b on commit drop as select (clicks.create_banner('Bulk')).id;
create temp table t on commit drop as
    select date_bin('1 minute', now(), timestamptz '2000-01-01') - interval '1 day' as t0;

select is(clicks.ingest_clicks(array[(select id from b), (select id from b), (select id from b)]::bigint[],
                               array[5, 7, 100], array[(select t0 from t), (select t0 from t), null]),
    112::bigint, 'accepted = the sum of counts');
select results_eq(
    $$select minute, clicks from clicks.stats((select id from b), now() - interval '2 days', now() + interval '1 minute')$$,
    $$select t0, 12::bigint from t union all select date_bin('1 minute', now(), timestamptz '2000-01-01'), 100::bigint$$,
    'per minute; no occurred_at means now');
select is(clicks.ingest_clicks('{}', '{}', '{}'), 0::bigint, 'an empty request accepts nothing');

select throws_ok($$select clicks.ingest_clicks(array[(select id from b), (select id from b), (select id from b), (select id from b)]::bigint[],
                                                array[1, 1, 1, 0], array[null, null, null, null]::timestamptz[])$$,
    'TLIA1', 'clicks[3]: count must be at least 1', 'a bad count names its index');
select throws_ok($$select clicks.ingest_clicks(array[(select id from b), 9223372036854775807]::bigint[],
                                                array[1, 1], array[null, null]::timestamptz[])$$,
    'TLNF1', 'clicks[1]: banner 9223372036854775807 not found', 'unknown banner');
select throws_ok($$select clicks.ingest_clicks(array[(select id from b)]::bigint[], array[1],
                                                array[now() + interval '3 minutes'])$$,
    'TLIA1', 'clicks[0]: occurred_at may be at most 00:02:00 in the future', 'future');
select throws_ok($$select clicks.ingest_clicks(array[(select id from b)]::bigint[], array[1],
                                                array[now() - interval '8 days'])$$,
    'TLIA1', 'clicks[0]: occurred_at may be at most 7 days in the past', 'too old');
select throws_ok($$select clicks.ingest_clicks(array[-1]::bigint[], array[1], array[null]::timestamptz[])$$,
    'TLIA1', 'clicks[0]: banner_id must be a positive id', 'bad banner id');
select throws_ok($$select clicks.ingest_clicks(array(select (select id from b) from generate_series(1, 10001)),
                                                array(select 1 from generate_series(1, 10001)),
                                                array(select null::timestamptz from generate_series(1, 10001)))$$,
    'TLIA1', 'at most 10000 entries per call', 'too many entries');

-- The field names the entry too, and nothing of a failed call counted.
create temp table caught (detail text, col text) on commit drop;
do $$
declare d text; c text;
begin
    perform clicks.ingest_clicks(array[(select id from b), (select id from b)]::bigint[],
                                 array[1000, 0], array[null, null]::timestamptz[]);
exception when sqlstate 'TLIA1' then
    get stacked diagnostics d = pg_exception_detail, c = column_name;
    insert into caught values (d, c);
end $$;
select results_eq($$select detail, col from caught$$, $$values ('COUNT_INVALID'::text, 'clicks[1].count'::text)$$,
    'reason in DETAIL, clicks[i].field in COLUMN');
select is((select sum(clicks) from clicks.stats((select id from b), now() - interval '2 days', now() + interval '1 minute')),
    112::numeric, 'the good entry of the failed call did not count');

select * from finish();
rollback;
