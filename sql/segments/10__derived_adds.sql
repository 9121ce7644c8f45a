-- _derived_adds(from, to, user_id): the history 'add' rows that are not stored but
-- derived: for each automatic segment created in [from, to) with adds_derived, one row
-- per user of its automatic share who was alive when it was created and has not been
-- deleted since (created_at <= the segment's created_at, deleted_at null), dated at the
-- segment's creation. Optionally one user's rows only. Deleted segments keep their rows:
-- the adds happened. delete_user stores a user's rows before the user stops matching.
-- A plain SQL function, so the planner inlines it into the caller's query.
create function segments._derived_adds(p_from timestamptz, p_to timestamptz,
                                       p_user_id bigint default null)
returns table (user_id bigint, segment_id bigint, slug text, at timestamptz)
language sql
stable
as $fn$
    select u.id, s.id, s.slug, s.created_at
      from segments.segments s
      join segments.users u
        on u.created_at <= s.created_at and u.deleted_at is null
     where s.adds_derived and s.auto_percent > 0
       and s.created_at >= p_from and s.created_at < p_to
       and (p_user_id is null or u.id = p_user_id)
       and segments._auto_member(u.id, s.slug, s.auto_percent)
$fn$;
