-- segments.update_user_segments_batch: many users' update_user_segments in one statement,
-- each item atomic on its own, run in user id order, answered under its ordinal; a keyed
-- item replays and its failure is recorded against its key.
begin;
set local role tally_app;
select plan(9);

do $$ begin
    perform segments.create_user(9100000801);
    perform segments.create_user(9100000802);
    perform segments.create_segment('uub_a');
    perform segments.create_segment('uub_b');
end $$;

create temp table out1 on commit drop as
select * from segments.update_user_segments_batch(
    array[9100000802, 9100000801, 9100000899, 9100000802]::bigint[],
    array[1, 1, 2, 3, 4, 4], array['uub_a', 'uub_b', 'uub_a', 'uub_a', 'uub_b', 'uub_a'],
    array[true, false, true, true, true, false],
    p_ttls => array[interval '1 day', null, null, null, null, null]);
select results_eq($$select ord, operation, slug, changed from out1 where error_sqlstate is null
                    order by ord, operation, slug$$,
    $$values (1, 'add'::text, 'uub_a'::text, true), (1, 'remove', 'uub_b', false),
             (2, 'add', 'uub_a', true),
             (4, 'add', 'uub_b', true), (4, 'remove', 'uub_a', true)$$,
    'each item answered as update_user_segments answers it, under its ordinal');
select ok((select expires_at > now() + interval '23 hours' from out1 where ord = 1 and operation = 'add'),
    'an add''s ttl reaches its item');
select results_eq($$select ord, error_sqlstate, error_reason, error_message, error_field from out1
                    where error_sqlstate is not null$$,
    $$values (3, 'TLNF1'::text, 'USER_NOT_FOUND'::text, 'user 9100000899 not found'::text, 'user_id'::text)$$,
    'an unknown user gets the error update_user_segments raises, alone');
select is((select count(*) from out1), 6::bigint, 'six rows: two, one, the error, two');
select is((select array_agg(ord) from out1 where error_sqlstate is null and operation = 'add'),
          array[2, 1, 4], 'items run in user id order, one user''s in input order');
select results_eq($$select slug from segments.user_segments(9100000802) order by slug$$,
    $$values ('uub_b'::text)$$, 'the second item of a user sees the first''s change');

-- Keys: a repeat of a keyed item answers its outcome again; a failure is recorded.
create temp table k1 on commit drop as
select * from segments.update_user_segments_batch(array[9100000801, 9100000801]::bigint[],
    array[1, 2], array['uub_b', 'nope'], array[true, true],
    p_idempotency_keys => array['uub-k1', 'uub-k2']);
select results_eq(
    $$select ord, operation, changed, error_reason
        from segments.update_user_segments_batch(array[9100000801, 9100000801]::bigint[],
             array[1, 2], array['uub_b', 'nope'], array[true, true],
             p_idempotency_keys => array['uub-k1', 'uub-k2'])
       order by ord$$,
    $$select ord, operation, changed, error_reason from k1 order by ord$$,
    'a repeat answers both outcomes again: the add''s (changed, once) and the error');
select throws_ok($$select * from segments.update_user_segments(9100000801, array['uub_a'], '{}',
                                                              array[null]::timestamptz[],
                                                              array[null]::interval[], 'uub-k2')$$,
    'TLFP1', 'this idempotency key was used with a different request',
    'the failed item''s key is bound to its request');
select throws_ok($$select * from segments.update_user_segments_batch(array[1]::bigint[], array[1, 1],
                                                                    array['a'], array[true])$$,
    'TLIA1', null, 'arrays of different lengths: BATCH_SHAPE_INVALID');

select * from finish();
rollback;
