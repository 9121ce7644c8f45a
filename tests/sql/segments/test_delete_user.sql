-- segments.delete_user: every membership ends, with history.
begin;
set local role tally_app;
select plan(9);

do $$ begin
    perform segments.create_user(9100000101);
    perform segments.create_segment('du_a');
    perform segments.create_segment('du_b');
    perform segments.create_segment('du_auto161', 1);  -- 9100000101's bucket is < 100
    perform segments.update_user_segments(9100000101, array['du_a', 'du_b'],
                                          p_add_ttls => array[null, interval '1 hour']);
end $$;
select is(segments.delete_user(9100000101), 3, 'three memberships end');
select throws_ok($$select segments.user_segments(9100000101)$$, 'TLNF1',
    'user 9100000101 not found', 'a deleted user is not found');
select results_eq(
    $$select segment, operation from segments.export_history(
          extract(year from clock_timestamp() at time zone 'UTC')::int,
          extract(month from clock_timestamp() at time zone 'UTC')::int, 9100000101)
       where operation = 'remove' order by segment$$,
    $$values ('du_a'::text, 'remove'::text), ('du_auto161', 'remove'), ('du_b', 'remove')$$,
    'a remove row for each, automatic included');
select results_eq(
    $$select segment from segments.export_history(
          extract(year from clock_timestamp() at time zone 'UTC')::int,
          extract(month from clock_timestamp() at time zone 'UTC')::int, 9100000101)
       where operation = 'add' order by segment$$,
    $$values ('du_a'::text), ('du_auto161'), ('du_b')$$, 'and each add once');
reset role;
select is((select at from segments.history where user_id = 9100000101 and slug = 'du_auto161'
            and operation = 'add'),
    (select created_at from segments.segments where slug = 'du_auto161'),
    'the derived add was stored, dated at the segment''s creation');
set local role tally_app;
select throws_ok($$select segments.delete_user(9100000101)$$, 'TLNF1',
    'user 9100000101 not found', 'deleting twice');
select throws_ok($$select segments.delete_user(9100000199)$$, 'TLNF1',
    'user 9100000199 not found', 'unknown user');
select throws_ok($$select segments.delete_user(-1)$$, 'TLIA1',
    'user_id must be a positive id', 'negative user id');
select throws_ok($$select segments.update_user_segments(9100000101, array['du_a'])$$, 'TLNF1',
    'user 9100000101 not found', 'a deleted user cannot be updated');

select * from finish();
rollback;
