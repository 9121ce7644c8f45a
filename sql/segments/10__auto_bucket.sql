-- _auto_bucket(user_id, slug): the user's bucket 0..9999 for an automatic segment. A
-- user is in a segment with auto_percent p when bucket < p * 100, so the same user
-- always gets the same answer for the same slug, whenever either was created. The hash
-- is hashtextextended: the one PostgreSQL keeps stable across releases because hash
-- partitioning stores its results. A plain SQL function, so the planner inlines it.
create function segments._auto_bucket(p_user_id bigint, p_slug text)
returns integer
language sql
immutable
parallel safe
return ((hashtextextended(p_slug || '/' || p_user_id::text, 0) % 10000 + 10000) % 10000)::integer;
