-- segments.expire_memberships: the sweep, idempotent, dated at each expiry.
begin;
set local role tally_app;
select plan(10);

do $$ begin
    perform segments.create_user(9100000601);
    perform segments.create_segment('ex_a');
    perform segments.create_segment('ex_b');
    perform segments.update_user_segments(9100000601, array['ex_a', 'ex_b'],
        p_add_ttls => array[interval '50 milliseconds', interval '1 day']);
end $$;
create temp table exp on commit drop as
    select expires_at from segments.user_segments(9100000601) where slug = 'ex_a';
select pg_sleep(0.1);
create temp table before_sweep on commit drop as
    select * from segments.export_history(
        extract(year from clock_timestamp() at time zone 'UTC')::int,
        extract(month from clock_timestamp() at time zone 'UTC')::int, 9100000601);
set local role tally_jobs;  -- the sweep is the job runner's
select ok(segments.expire_memberships(now()) >= 1, 'the sweep ends the expired membership');
select is(segments.expire_memberships(now()), 0::bigint, 'a second run finds nothing');
set local role tally_app;
select results_eq($$select slug from segments.user_segments(9100000601)$$,
    $$values ('ex_b'::text)$$, 'the other stays');
reset role;
select results_eq(
    $$select at from segments.history where user_id = 9100000601 and slug = 'ex_a' and operation = 'remove'$$,
    $$select expires_at from exp$$, 'the removal is dated at the expiry');
set local role tally_app;
select results_eq(
    $$select * from segments.export_history(
        extract(year from clock_timestamp() at time zone 'UTC')::int,
        extract(month from clock_timestamp() at time zone 'UTC')::int, 9100000601)$$,
    $$select * from before_sweep$$, 'the export is the same before and after the sweep');
select is((select count(*) from before_sweep where operation = 'remove'), 1::bigint,
    'with the removal in both');
-- Re-adding after expiry (not swept) is a new membership: remove at expiry, then add.
do $$ begin
    perform segments.update_user_segments(9100000601, array['ex_a'],
        p_add_ttls => array[interval '50 milliseconds']);
end $$;
select pg_sleep(0.1);
select results_eq(
    $$select operation from segments.update_user_segments(9100000601, array['ex_a'])$$,
    $$values ('add'::text)$$, 'a re-add after expiry');

-- An expiry on a derived membership (9100000601's bucket for ex_auto60 is < 100): the
-- sweep ends it and leaves an opt-out, so it does not come back.
do $$ begin
    perform segments.create_segment('ex_auto60', 1);
    perform segments.update_user_segments(9100000601, array['ex_auto60'],
        p_add_ttls => array[interval '50 milliseconds']);
end $$;
select pg_sleep(0.1);
set local role tally_jobs;  -- the sweep is the job runner's
select ok(segments.expire_memberships(now()) >= 1, 'the sweep ends an expired derived membership');
set local role tally_app;
select is((select count(*) from segments.user_segments(9100000601) where slug = 'ex_auto60'),
    0::bigint, 'which does not come back');
reset role;
select is((select count(*) from segments.opt_outs o join segments.segments s on s.id = o.segment_id
            where o.user_id = 9100000601 and s.slug = 'ex_auto60'), 1::bigint,
    'an opt-out holds it off');
set local role tally_app;
select * from finish();
rollback;
