-- user_segments(user_id): the user's active segments with their expiry, by slug. A
-- membership whose expiry has passed is never returned, whether or not
-- expire_memberships has swept it yet ("now" is clock_timestamp() at the call).
--
-- Memberships are of two kinds:
--   * explicit: a row of segments.memberships, active while its expiry is null or in
--     the future (an expired row of an automatic segment is not active either: the row
--     decides);
--   * derived (_derived_memberships): the user's bucket falls into a live automatic
--     segment, and there is neither a memberships row nor an opt-out for the pair; no
--     expiry, added when the later of the user and the segment was created.
-- The user's row by primary key, then one query: its memberships rows by primary key
-- plus the few live automatic segments, each checked against the two primary keys.
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
    perform tally.check_id(p_user_id, 'user_id');
    perform 1 from segments.users u
     where u.id = p_user_id and u.deleted_at is null;
    if not found then
        perform tally.raise_not_found('user', p_user_id);
    end if;
    -- A stable function: this reads the same snapshot as the check above.
    return query
        select x.slug, x.expires_at, x.added_at
          from (select s.slug, m.expires_at, m.added_at
                  from segments.memberships m
                  join segments.segments s on s.id = m.segment_id
                 where m.user_id = p_user_id
                   and (m.expires_at is null or m.expires_at > v_now)
                union all
                select d.slug, null, d.added_at
                  from segments._derived_memberships() d
                 where d.user_id = p_user_id) x
         order by x.slug collate "C";
end
$fn$;

grant execute on function segments.user_segments(bigint) to tally_app;
