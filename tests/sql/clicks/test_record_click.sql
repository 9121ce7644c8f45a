-- clicks.record_click: one click now, for psql users.
begin;
set local role tally_app;
select plan(5);

create temp table b on commit drop as select (clicks.create_banner('One')).id;
select is(clicks.record_click((select id from b)), date_bin('1 minute', now(), timestamptz '2000-01-01'),
    'counted in the current minute (UTC)');
do $$ begin perform clicks.record_click((select id from b)); end $$;
select results_eq(
    $$select clicks from clicks.stats((select id from b), now() - interval '1 minute', now() + interval '1 minute')$$,
    $$values (2::bigint)$$, 'two clicks in this minute');
select throws_ok($$select clicks.record_click(9223372036854775807)$$, 'TLNF1',
    'banner 9223372036854775807 not found', 'unknown banner');
select throws_ok($$select clicks.record_click(0)$$, 'TLIA1', 'banner_id must be a positive id', 'banner 0');
select throws_ok($$select clicks.record_click(null)$$, 'TLIA1', null, 'null banner');

select * from finish();
rollback;
