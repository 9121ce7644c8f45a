-- _auto_bucket(user_id, slug): the user's bucket 0..9999 for an automatic segment. A
-- user is in a segment with auto_percent p when bucket < p * 100, so the same user
-- always gets the same answer for the same slug, whenever either was created. The hash
-- is hashint8extended seeded by hashtext(slug): each slug gets its own, independent
-- choice of users (not a shifted window of one order), and these are the hash functions
-- PostgreSQL keeps stable across releases because hash partitioning stores their
-- results. Hashing the bigint (not a built string) keeps a million rows cheap. A plain
-- SQL function, so the planner inlines it.
create function segments._auto_bucket(p_user_id bigint, p_slug text)
returns integer
language sql
immutable
parallel safe
return ((hashint8extended(p_user_id, hashtext(p_slug)) % 10000 + 10000) % 10000)::integer;
