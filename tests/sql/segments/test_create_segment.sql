-- segments.create_segment: slug rules, automatic percentage, deterministic choice.
begin;
set local role tally_app;
select plan(18);

select results_eq($$select slug, auto_percent, auto_members from segments.create_segment('cs_plain')$$,
    $$values ('cs_plain'::text, null::numeric, 0::bigint)$$, 'a plain segment');
select throws_ok($$select segments.create_segment('cs_plain')$$, 'TLAE1',
    'segment cs_plain already exists', 'a taken slug');
select lives_ok($$select segments.create_segment(repeat('a', 128))$$, '128 characters');
select lives_ok($$select segments.create_segment('A-z_0.9')$$, 'every allowed character class');
select throws_ok($$select segments.create_segment(repeat('a', 129))$$, 'TLIA1', null, '129 characters');
select throws_ok($$select segments.create_segment('')$$, 'TLIA1', null, 'empty slug');
select throws_ok($$select segments.create_segment('has space')$$, 'TLIA1', null, 'a space');
select throws_ok($$select segments.create_segment(E'trailing\n')$$, 'TLIA1', null, 'a newline');
select throws_ok($$select segments.create_segment(null)$$, 'TLIA1', null, 'null slug');
select throws_ok($$select segments.create_segment('cs_p', 100.01)$$, 'TLIA1',
    'auto_percent must be 0 to 100 with at most two decimals', 'over 100 %');
select throws_ok($$select segments.create_segment('cs_p', -1)$$, 'TLIA1', null, 'negative');
select throws_ok($$select segments.create_segment('cs_p', 12.345)$$, 'TLIA1', null, 'three decimals');

-- Deleted: the slug is free again.
do $$ begin perform segments.delete_segment('cs_plain'); end $$;
select lives_ok($$select segments.create_segment('cs_plain')$$, 'a deleted slug may be taken again');

-- Automatic: existing users by the hash, with history, the same set for the same slug.
-- The memberships and the 'add' rows are derived, not stored: only the segment row is
-- written.
reset role;
insert into segments.users (id) select g from generate_series(9200000001, 9200002000) g;
set local role tally_app;
create temp table auto1 on commit drop as select * from segments.create_segment('cs_auto', 25.5);
create temp table members1 on commit drop as
    select g as user_id from generate_series(9200000001, 9200002000) g
     where exists (select 1 from segments.user_segments(g) where slug = 'cs_auto');
reset role;
select set_eq($$select user_id from members1$$,
    $$select u.id from segments.users u
       where u.id between 9200000001 and 9200002000
         and segments._auto_bucket(u.id, 'cs_auto') < 2550$$,
    'exactly the users whose bucket is below 2550');
select ok((select count(*) from members1) between 400 and 620, 'about 25.5 % of 2,000');
select results_eq(
    $$select (select count(*) from segments.memberships where segment_id = a.id),
             (select count(*) from segments.history where segment_id = a.id)
        from auto1 a$$,
    $$values (0::bigint, 0::bigint)$$, 'no membership or history row is stored');
set local role tally_app;
select is((select count(*) from segments.export_history(
              extract(year from clock_timestamp() at time zone 'UTC')::int,
              extract(month from clock_timestamp() at time zone 'UTC')::int)
            where segment = 'cs_auto' and operation = 'add'
              and datetime = to_char((select created_at from auto1) at time zone 'UTC',
                                     'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')),
    (select auto_members from auto1), 'the export has an add row per member, at the creation time');
set local role tally_app;
do $$ begin perform segments.delete_segment('cs_auto'); end $$;
select is((select auto_members from segments.create_segment('cs_auto', 25.5)),
    (select auto_members from auto1), 'the same slug picks the same users again');

select * from finish();
rollback;
