-- segments.user_segments: active memberships by slug; an expired one never appears.
begin;
set local role tally_app;
select plan(8);

do $$ begin
    perform segments.create_user(9100000501);
    perform segments.create_segment('gs_b');
    perform segments.create_segment('gs_a');
    perform segments.create_segment('gs_short');
    perform segments.update_user_segments(9100000501, array['gs_b', 'gs_a', 'gs_short'],
        p_add_ttls => array[null, interval '1 day', interval '100 milliseconds']);
end $$;
select results_eq($$select slug from segments.user_segments(9100000501)$$,
    $$values ('gs_a'::text), ('gs_b'), ('gs_short')$$, 'sorted by slug');
select ok((select expires_at from segments.user_segments(9100000501) where slug = 'gs_a') is not null,
    'with the expiry');
select pg_sleep(0.15);
select results_eq($$select slug from segments.user_segments(9100000501)$$,
    $$values ('gs_a'::text), ('gs_b')$$, 'an expired membership is not returned, though not swept');
-- A derived membership (9100000501's bucket for gs_auto18 is < 100): in slug order, no
-- expiry, added at the segment's creation.
create temp table auto on commit drop as select * from segments.create_segment('gs_auto18', 1);
select results_eq($$select slug from segments.user_segments(9100000501)$$,
    $$values ('gs_a'::text), ('gs_auto18'), ('gs_b')$$, 'a derived membership among the others');
select results_eq(
    $$select expires_at, added_at from segments.user_segments(9100000501) where slug = 'gs_auto18'$$,
    $$select null::timestamptz, created_at from auto$$, 'without expiry, added at the creation');
select is((select count(*) from segments.create_user(9100000502)), 1::bigint, 'another user');
select is((select count(*) from segments.user_segments(9100000502)), 0::bigint,
    'a user with no segments gets none, not an error');
select throws_ok($$select segments.user_segments(9100000599)$$, 'TLNF1',
    'user 9100000599 not found', 'unknown user');

select * from finish();
rollback;
