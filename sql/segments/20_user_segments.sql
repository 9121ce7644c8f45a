-- user_segments(user_id): the user's active segments with their expiry, by slug. A
-- membership whose expiry has passed is never returned, whether or not
-- expire_memberships has swept it yet ("now" is clock_timestamp() at the call).
-- TLNF1 USER_NOT_FOUND, TLIA1 USER_ID_INVALID.
--   select * from segments.user_segments(42);
create function segments.user_segments(p_user_id bigint)
returns table (slug text, expires_at timestamptz, added_at timestamptz)
language plpgsql
stable
security definer
set search_path = segments, pg_temp
as $fn$
#variable_conflict use_column
declare
    v_now timestamptz := clock_timestamp();
begin
    perform segments._check_user_id(p_user_id);
    return query
        select s.slug, m.expires_at, m.added_at
          from segments.memberships m
          join segments.segments s on s.id = m.segment_id
         where m.user_id = p_user_id
           and (m.expires_at is null or m.expires_at > v_now)
         order by s.slug collate "C";
    if not found and not exists (select 1 from segments.users u
                                  where u.id = p_user_id and u.deleted_at is null) then
        perform tally.raise_error('TLNF1', 'USER_NOT_FOUND',
                                  format('user %s not found', p_user_id), 'user_id');
    end if;
end
$fn$;

grant execute on function segments.user_segments(bigint) to tally_app;
