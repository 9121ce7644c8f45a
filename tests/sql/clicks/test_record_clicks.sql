-- clicks.record_clicks: per-item outcomes, minute bucketing, aggregation per minute.
begin;
set local role tally_app;
select plan(10);

create temp table b on commit drop as
    select (clicks.create_banner('A')).id as a, (clicks.create_banner('B')).id as b;
-- t0 is a whole minute an hour ago.
create temp table t on commit drop as
    select date_bin('1 minute', now(), timestamptz '2000-01-01') - interval '1 hour' as t0;

create temp table r on commit drop as
    select * from clicks.record_clicks(
        array[(select a from b), (select a from b), (select a from b), (select b from b),
              0, 9223372036854775807, (select a from b), (select a from b), (select a from b),
              (select a from b), null]::bigint[],
        array[1, 2, 4, 8, 1, 1, 0, 1, 1, 1, 1],
        array[(select t0 from t), (select t0 from t) + interval '59.999999 seconds',
              (select t0 from t) + interval '60 seconds', (select t0 from t),
              now(), now(), now(), now() + interval '3 minutes', now() - interval '8 days',
              null, now()]);

select results_eq($$select ord, error_sqlstate, error_reason, error_field from r order by ord$$,
    $$values (1, null::text, null::text, null::text), (2, null, null, null), (3, null, null, null),
             (4, null, null, null), (5, 'TLIA1', 'BANNER_ID_INVALID', 'banner_id'),
             (6, 'TLNF1', 'BANNER_NOT_FOUND', 'banner_id'), (7, 'TLIA1', 'COUNT_INVALID', 'count'),
             (8, 'TLIA1', 'OCCURRED_AT_IN_FUTURE', 'occurred_at'),
             (9, 'TLIA1', 'OCCURRED_AT_TOO_OLD', 'occurred_at'),
             (10, 'TLIA1', 'OCCURRED_AT_INVALID', 'occurred_at'),
             (11, 'TLIA1', 'BANNER_ID_INVALID', 'banner_id')$$,
    'one outcome per item, in input order; bad items fail alone');
select results_eq($$select minute from r where ord <= 4 order by ord$$,
    $$select t0 from t union all select t0 from t union all select t0 + interval '1 minute' from t
      union all select t0 from t$$,
    'xx:59.999999 is still the minute; xx+1:00 is the next one');
select results_eq(
    $$select minute, clicks from clicks.stats((select a from b), now() - interval '2 hours', now())$$,
    $$select t0, 3::bigint from t union all select t0 + interval '1 minute', 4::bigint from t$$,
    'counts are summed per (banner, minute); nothing of the bad items counted');
select results_eq(
    $$select minute, clicks from clicks.stats((select b from b), now() - interval '2 hours', now())$$,
    $$select t0, 8::bigint from t$$, 'other banner apart');

-- A second batch adds to the same rows.
do $$ begin perform clicks.record_clicks(
    array[(select a from b), (select a from b)]::bigint[], array[10, 5],
    array[(select t0 from t) + interval '30 seconds', (select t0 from t) + interval '2 minutes']); end $$;
select results_eq(
    $$select minute, clicks from clicks.stats((select a from b), now() - interval '2 hours', now())$$,
    $$select t0, 13::bigint from t union all select t0 + interval '1 minute', 4::bigint from t
      union all select t0 + interval '2 minutes', 5::bigint from t$$,
    'a later batch adds to the minute, never overwrites it');

-- Limits: exactly at the clock-skew and ingest-window edges.
select is((select error_reason from clicks.record_clicks(array[(select a from b)]::bigint[], array[1],
           array[now() + interval '2 minutes'])), null, '2 minutes ahead is accepted');
select is((select error_reason from clicks.record_clicks(array[(select a from b)]::bigint[], array[1],
           array[now() - interval '7 days'])), null, 'exactly 7 days old is accepted');
select is((select error_reason from clicks.record_clicks(array[(select a from b)]::bigint[], array[1],
           array[now() - interval '7 days 1 second'])), 'OCCURRED_AT_TOO_OLD', 'a second older is not');
select is((select count(*) from clicks.record_clicks('{}', '{}', '{}')), 0::bigint, 'an empty batch');
select throws_ok($$select * from clicks.record_clicks(array[1]::bigint[], array[1, 2], array[now()])$$,
    'TLIA1', 'banner_ids, counts and occurred_ats must have the same length', 'arrays of unequal length');

select * from finish();
rollback;
