-- segments.update_user_segments: one transaction, validated first, reported per slug.
begin;
set local role tally_app;
select plan(29);

do $$ begin
    perform segments.create_user(9100000401);
    perform segments.create_segment('us_a');
    perform segments.create_segment('us_b');
    perform segments.create_segment('us_c');
end $$;

select results_eq(
    $$select operation, slug, changed from segments.update_user_segments(9100000401,
          array['us_a', 'us_b'], array['us_c'])$$,
    $$values ('add'::text, 'us_a'::text, true), ('add', 'us_b', true), ('remove', 'us_c', false)$$,
    'adds are new, removing a segment the user lacks is a reported no-op');
select results_eq($$select slug, expires_at from segments.user_segments(9100000401)$$,
    $$values ('us_a'::text, null::timestamptz), ('us_b', null)$$, 'the user has both');

-- Re-adding keeps the membership, replaces the expiry, writes no second history row.
select results_eq(
    $$select operation, slug, changed, expires_at is not null from segments.update_user_segments(
          9100000401, array['us_a'], p_add_ttls => array[interval '1 hour'])$$,
    $$values ('add'::text, 'us_a'::text, false, true)$$, 're-adding is not new');
select ok((select expires_at from segments.user_segments(9100000401) where slug = 'us_a')
          between clock_timestamp() + interval '59 minutes' and clock_timestamp() + interval '1 hour',
    'the ttl counts from now');
select lives_ok($$select segments.update_user_segments(9100000401, array['us_a'],
    p_add_expires_at => array['2999-01-01 00:00:00+00'::timestamptz])$$, 'an explicit expiry');
select is((select expires_at from segments.user_segments(9100000401) where slug = 'us_a'),
    '2999-01-01 00:00:00+00'::timestamptz, 'replaces the ttl');
select lives_ok($$select segments.update_user_segments(9100000401, array['us_a'])$$,
    'no expiry given');
select is((select expires_at from segments.user_segments(9100000401) where slug = 'us_a'),
    null, 'means no expiry');
reset role;
select is((select count(*) from segments.history where user_id = 9100000401 and slug = 'us_a'),
    1::bigint, 'one history row for us_a in all that');
set local role tally_app;

select results_eq(
    $$select operation, slug, changed from segments.update_user_segments(9100000401,
          '{}', array['us_b'])$$,
    $$values ('remove'::text, 'us_b'::text, true)$$, 'a real removal');
select results_eq($$select slug from segments.user_segments(9100000401)$$,
    $$values ('us_a'::text)$$, 'is gone');
select is((select count(*) from segments.update_user_segments(9100000401)), 0::bigint,
    'an empty update is fine');

-- Every error leaves everything as it was.
create temp table before on commit drop as select * from segments.user_segments(9100000401);
select throws_ok($$select segments.update_user_segments(9100000401, array['us_c', 'us_nope'])$$,
    'TLNF1', 'segment us_nope not found', 'an unknown segment is named');
select throws_ok($$select segments.update_user_segments(9100000401, array['us_c'], array['us_zip'])$$,
    'TLNF1', 'segment us_zip not found', 'an unknown segment to remove is named');
select throws_ok($$select segments.update_user_segments(9100000499, array['us_c'])$$,
    'TLNF1', 'user 9100000499 not found', 'an unknown user');
select throws_ok($$select segments.update_user_segments(0, array['us_c'])$$,
    'TLIA1', 'user_id must be a positive id', 'user id 0');
select throws_ok($$select segments.update_user_segments(9100000401, array['us_c'], array['us_c'])$$,
    'TLIA1', 'segment us_c is both added and removed', 'the same slug in add and remove');
select throws_ok($$select segments.update_user_segments(9100000401, array['us_c', 'us_c'])$$,
    'TLIA1', 'segment us_c is listed twice', 'a slug twice');
select throws_ok($$select segments.update_user_segments(9100000401, '{}', array['us_b', 'us_b'])$$,
    'TLIA1', 'segment us_b is listed twice', 'a slug twice in remove');
select throws_ok($$select segments.update_user_segments(9100000401, array['us_c'],
    p_add_expires_at => array['2000-01-01'::timestamptz])$$,
    'TLIA1', 'expiry of segment us_c is not in the future', 'an expiry in the past');
select throws_ok($$select segments.update_user_segments(9100000401, array['us_c'],
    p_add_expires_at => array['infinity'::timestamptz])$$,
    'TLIA1', 'expiry of segment us_c must be before the year 10000', 'an infinite expiry');
select throws_ok($$select segments.update_user_segments(9100000401, array['us_c'],
    p_add_ttls => array[interval '9000 years'])$$,
    'TLIA1', 'expiry of segment us_c must be before the year 10000', 'a ttl beyond 9999');
select throws_ok($$select segments.update_user_segments(9100000401, array['us_c'],
    p_add_ttls => array[interval '0'])$$,
    'TLIA1', 'ttl of segment us_c must be positive', 'a zero ttl');
select throws_ok($$select segments.update_user_segments(9100000401, array['us_c'],
    p_add_expires_at => array['2999-01-01'::timestamptz], p_add_ttls => array[interval '1 day'])$$,
    'TLIA1', 'segment us_c has both expires_at and ttl', 'both expiries');
select throws_ok($$select segments.update_user_segments(9100000401, array['us_c'],
    p_add_ttls => array[interval '1 day', interval '2 days'])$$,
    'TLIA1', 'add_expires_at and add_ttls must be as long as add_slugs', 'arrays of other lengths');
select throws_ok($$select segments.update_user_segments(9100000401, array['bad slug'])$$,
    'TLIA1', null, 'an invalid slug');
select throws_ok($$select segments.update_user_segments(9100000401, array[null::text])$$,
    'TLIA1', null, 'a null slug');
select results_eq($$select * from segments.user_segments(9100000401)$$, $$select * from before$$,
    'after all those errors the memberships are as they were');

-- An automatic segment can be removed, and stays removed for later users too.
do $$ begin perform segments.create_segment('us_auto158', 1); end $$;
select results_eq(
    $$select operation, changed from segments.update_user_segments(9100000401, '{}', array['us_auto158'])$$,
    $$values ('remove'::text, true)$$, 'an automatic membership can be removed');

select * from finish();
rollback;
