-- segments.user_segments: active memberships by slug; an expired one never appears.
begin;
set local role tally_app;
select plan(6);

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
select is((select count(*) from segments.create_user(9100000502)), 1::bigint, 'another user');
select is((select count(*) from segments.user_segments(9100000502)), 0::bigint,
    'a user with no segments gets none, not an error');
select throws_ok($$select segments.user_segments(9100000599)$$, 'TLNF1',
    'user 9100000599 not found', 'unknown user');

select * from finish();
rollback;
