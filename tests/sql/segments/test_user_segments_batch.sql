-- segments.user_segments_batch: user_segments of many users, each answer in its place.
begin;
set local role tally_app;
select plan(6);

do $$ begin
    perform segments.create_user(9100000701);
    perform segments.create_user(9100000702);
    perform segments.create_segment('gsb_b');
    perform segments.create_segment('gsb_a');
    perform segments.update_user_segments(9100000701, array['gsb_b', 'gsb_a']);
    perform segments.update_user_segments(9100000702, array['gsb_b']);
end $$;
select results_eq(
    $$select ord, slug from segments.user_segments_batch(array[9100000702, 9100000701, 9100000702])$$,
    $$values (1, 'gsb_b'::text), (2, 'gsb_a'), (2, 'gsb_b'), (3, 'gsb_b')$$,
    'each user''s segments under its ordinal, in input order, a repeat answered twice');
select results_eq(
    $$select b.slug, b.expires_at, b.added_at
        from segments.user_segments_batch(array[9100000701]) b$$,
    $$select slug, expires_at, added_at from segments.user_segments(9100000701)$$,
    'the same rows as user_segments');
select results_eq(
    $$select ord, error_sqlstate, error_reason, error_message, error_field
        from segments.user_segments_batch(array[9100000799, 0, 9100000702])
       where error_sqlstate is not null$$,
    $$values (1, 'TLNF1'::text, 'USER_NOT_FOUND'::text, 'user 9100000799 not found'::text, 'user_id'::text),
             (2, 'TLIA1', 'USER_ID_INVALID', 'user_id must be a positive id', 'user_id')$$,
    'an unknown and an invalid user get the errors user_segments raises');
select is((select count(*) from segments.user_segments_batch(array[9100000799, 0, 9100000702])
            where ord = 3 and slug = 'gsb_b'), 1::bigint, 'their errors leave the others'' answers');
select is((select count(*) from segments.create_user(9100000703)), 1::bigint, 'a user with none');
select is((select count(*) from segments.user_segments_batch(array[9100000703]::bigint[])
           ) + (select count(*) from segments.user_segments_batch('{}'::bigint[])), 0::bigint,
    'no rows for a user without segments, nor for no users');

select * from finish();
rollback;
