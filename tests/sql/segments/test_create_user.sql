-- segments.create_user: idempotent; a new user meets the automatic segments.
begin;
set local role tally_app;
select plan(10);

create temp table u1 on commit drop as select * from segments.create_user(9100000001);
select is((select created from u1), true, 'a new user is created');
select results_eq($$select user_id, created from segments.create_user(9100000001)$$,
    $$values (9100000001::bigint, false)$$, 'creating it again changes nothing');
select is((select created_at from segments.create_user(9100000001)), (select created_at from u1),
    'and keeps its created_at');
select is((select count(*) from segments.user_segments(9100000001)), 0::bigint,
    'no segments yet');

-- Automatic segments: user 9100000002's bucket for ct_auto85 is below 100, so 1 % reaches
-- it (1 %, not 100 %: the test database may hold many users); 0 % reaches nobody.
do $$ begin
    perform segments.create_segment('ct_auto85', 1);
    perform segments.create_segment('ct_none', 0);
    perform segments.create_segment('ct_manual');
end $$;
create temp table u2 on commit drop as select * from segments.create_user(9100000002);
select results_eq($$select slug from segments.user_segments(9100000002)$$,
    $$values ('ct_auto85'::text)$$, 'a new user gets the automatic segments it falls into');
select results_eq(
    $$select user_id, segment, operation from segments.export_history(
          extract(year from clock_timestamp() at time zone 'UTC')::int,
          extract(month from clock_timestamp() at time zone 'UTC')::int, 9100000002)$$,
    $$values (9100000002::bigint, 'ct_auto85'::text, 'add'::text)$$,
    'with an add in the history');

-- Deleted, then created again: a new start, with its automatic segments again.
do $$ begin perform segments.delete_user(9100000002); end $$;
select results_eq($$select user_id, created from segments.create_user(9100000002)$$,
    $$values (9100000002::bigint, true)$$, 'a deleted user may be created again');
select results_eq($$select slug from segments.user_segments(9100000002)$$,
    $$values ('ct_auto85'::text)$$, 'and gets its automatic segments again');

select throws_ok($$select segments.create_user(0)$$, 'TLIA1', 'user_id must be a positive id',
    'user id 0');
select throws_ok($$select segments.create_user(null)$$, 'TLIA1', 'user_id must be a positive id',
    'null user id');

select * from finish();
rollback;
