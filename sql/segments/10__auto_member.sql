-- _auto_member(user_id, slug, auto_percent): whether the hash puts the user into the
-- automatic share of a segment with this slug and auto_percent (false for a segment that
-- is not automatic). Whether the user is a member also depends on segments.memberships
-- and segments.opt_outs (see user_segments). A plain SQL function, so the planner inlines
-- it.
create function segments._auto_member(p_user_id bigint, p_slug text, p_auto_percent numeric)
returns boolean
language sql
immutable
parallel safe
return coalesce(segments._auto_bucket(p_user_id, p_slug) < p_auto_percent * 100, false);
