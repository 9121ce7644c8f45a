-- delete_user(user_id): the user is deleted and every membership it holds ends, each
-- with a history 'remove' row (dated at its expiry if that had already passed).
-- Returns how many memberships ended (expired ones not yet swept included).
-- TLNF1 USER_NOT_FOUND, TLIA1 USER_ID_INVALID.
--   select segments.delete_user(42);
create function segments.delete_user(p_user_id bigint)
returns integer
language plpgsql
security definer
set search_path = segments, pg_temp
as $fn$
declare
    v_now timestamptz;
    v_count integer;
begin
    perform segments._check_user_id(p_user_id);
    -- Lock first, then read the time (see delete_segment: an UPDATE that waits keeps
    -- the time from before the wait).
    perform 1 from segments.users u
     where u.id = p_user_id and u.deleted_at is null
       for no key update;
    if not found then
        perform tally.raise_error('TLNF1', 'USER_NOT_FOUND',
                                  format('user %s not found', p_user_id), 'user_id');
    end if;
    v_now := clock_timestamp();
    update segments.users u set deleted_at = v_now where u.id = p_user_id;

    with ended as (
        delete from segments.memberships m
         where m.user_id = p_user_id
        returning m.segment_id, m.expires_at
    ),
    logged as (
        insert into segments.history (user_id, segment_id, slug, operation, at)
        select p_user_id, e.segment_id, s.slug, 'remove', least(e.expires_at, v_now)
          from ended e join segments.segments s on s.id = e.segment_id
         order by least(e.expires_at, v_now), s.slug
        returning 1
    )
    select count(*) into v_count from logged;
    return v_count;
end
$fn$;

grant execute on function segments.delete_user(bigint) to tally_app;
