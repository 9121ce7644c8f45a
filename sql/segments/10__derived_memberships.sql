-- _derived_memberships(): the rule of derived memberships, in one place. A live user is a
-- member of a live automatic segment by derivation when its bucket falls into the
-- segment's share (_auto_member) and neither a row of segments.memberships (the row
-- decides) nor an opt-out (segments.opt_outs: the user ended it) exists for the pair.
-- added_at: when the later of the user and the segment was created. No expiry: one is
-- carried by a memberships row. Callers filter it by user (user_segments, delete_user),
-- by segment (delete_segment) or by pair (update_user_segments).
-- Without parameters and a plain SQL function, so the planner inlines it like a view
-- and pushes each caller's filter down to the primary keys and segments_auto_idx.
create function segments._derived_memberships()
returns table (user_id bigint, segment_id bigint, slug text, added_at timestamptz)
language sql
stable
as $fn$
    select u.id, s.id, s.slug, greatest(u.created_at, s.created_at)
      from segments.segments s
      join segments.users u on u.deleted_at is null
     where s.deleted_at is null and s.auto_percent > 0
       and segments._auto_member(u.id, s.slug, s.auto_percent)
       and not exists (select 1 from segments.memberships m
                        where m.user_id = u.id and m.segment_id = s.id)
       and not exists (select 1 from segments.opt_outs o
                        where o.user_id = u.id and o.segment_id = s.id)
$fn$;
