-- clicks.stats: [from, to) truncated to minutes, ascending, only minutes with clicks.
begin;
set local role tally_app;
select plan(15);

create temp table b on commit drop as select (clicks.create_banner('Stats')).id;
create temp table t on commit drop as
    select date_bin('1 minute', now(), timestamptz '2000-01-01') - interval '3 hours' as t0;
do $$ begin perform clicks.ingest_clicks(
    array[(select id from b), (select id from b), (select id from b)]::bigint[], array[1, 2, 3],
    array[(select t0 from t), (select t0 from t) + interval '1 minute', (select t0 from t) + interval '5 minutes']); end $$;

select results_eq($$select minute, clicks from clicks.stats((select id from b), (select t0 from t), (select t0 from t) + interval '1 hour')$$,
    $$select t0, 1::bigint from t union all select t0 + interval '1 minute', 2 from t
      union all select t0 + interval '5 minutes', 3 from t$$, 'ascending, empty minutes left out');
select results_eq($$select minute from clicks.stats((select id from b), (select t0 from t), (select t0 from t) + interval '5 minutes')$$,
    $$select t0 from t union all select t0 + interval '1 minute' from t$$, 'the end minute is excluded');
select results_eq($$select minute from clicks.stats((select id from b), (select t0 from t), (select t0 from t) + interval '5 minutes 59 seconds')$$,
    $$select t0 from t union all select t0 + interval '1 minute' from t$$, 'ts_to is truncated: still excluded');
select results_eq($$select minute from clicks.stats((select id from b), (select t0 from t) + interval '59 seconds', (select t0 from t) + interval '1 minute')$$,
    $$select t0 from t$$, 'ts_from is truncated: its minute is included');
select is_empty($$select * from clicks.stats((select id from b), (select t0 from t) - interval '1 hour', (select t0 from t))$$,
    'a range with no clicks is empty');
select results_eq($$select count(*) from clicks.stats((select id from b), now() - interval '31 days', now())$$,
    $$values (3::bigint)$$, '31 days is allowed');

select throws_ok($$select * from clicks.stats((select id from b), now(), now() - interval '1 minute')$$,
    'TLIA1', 'ts_from must be before ts_to', 'reversed');
select throws_ok($$select * from clicks.stats((select id from b), (select t0 from t), (select t0 from t) + interval '30 seconds')$$,
    'TLIA1', 'ts_from and ts_to are in the same minute: the range is empty', 'same minute');
select throws_ok($$select * from clicks.stats((select id from b), now() - interval '31 days 1 minute', now())$$,
    'TLIA1', 'the range may span at most 31 days', 'over 31 days');
select throws_ok($$select * from clicks.stats((select id from b), null, now())$$, 'TLIA1', 'ts_from must be a finite time', 'no from');
select throws_ok($$select * from clicks.stats((select id from b), now(), 'infinity')$$, 'TLIA1', 'ts_to must be a finite time', 'infinite to');
select throws_ok($$select * from clicks.stats(9223372036854775807, now() - interval '1 hour', now())$$,
    'TLNF1', 'banner 9223372036854775807 not found', 'unknown banner');
select throws_ok($$select * from clicks.stats(0, now() - interval '1 hour', now())$$,
    'TLIA1', 'banner_id must be a positive id', 'banner 0');

-- Reasons, for the gRPC mapping.
create temp table caught (detail text, col text) on commit drop;
do $$
declare d text; c text;
begin
    perform clicks.stats((select id from b), now(), now() - interval '1 day');
exception when sqlstate 'TLIA1' then
    get stacked diagnostics d = pg_exception_detail, c = column_name;
    insert into caught values (d, c);
end $$;
do $$
declare d text; c text;
begin
    perform clicks.stats((select id from b), now() - interval '40 days', now());
exception when sqlstate 'TLIA1' then
    get stacked diagnostics d = pg_exception_detail, c = column_name;
    insert into caught values (d, c);
end $$;
select results_eq($$select detail, col from caught$$,
    $$values ('RANGE_REVERSED'::text, 'ts_from'::text), ('RANGE_TOO_LONG', 'ts_to')$$, 'reasons in DETAIL');
select is((select sum(clicks) from clicks.stats((select id from b), now() - interval '1 day', now())), 6::numeric, 'total');

select * from finish();
rollback;
