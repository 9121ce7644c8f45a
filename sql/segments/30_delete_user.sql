-- delete_user(user_id): the user is deleted and every membership it holds ends, each
-- with a history 'remove' row (derived automatic ones included; one whose expiry had
-- passed is dated at it). The derived history 'add' rows of the user's current life
-- (_derived_adds: automatic segments created while it was alive, deleted ones too) are
-- stored first, since a deleted user no longer matches the derivation; its opt-outs are
-- dropped, so a user created again starts afresh.
-- Returns how many memberships ended (expired ones not yet swept included).
-- TLNF1 USER_NOT_FOUND, TLIA1 USER_ID_INVALID.
--   select segments.delete_user(42);
create function segments.delete_user(p_user_id bigint,
                                     p_idempotency_key text default null,
                                     p_idempotency_scope text default '')
returns integer
language plpgsql
security definer
set search_path = segments, pg_temp
as $fn$
declare
    v_now timestamptz;
    v_count integer;
begin
    if p_idempotency_key is not null then
        return (coalesce(tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'segments.delete_user', jsonb_build_array(p_user_id)),
                         tally._idempotent_record(to_jsonb(segments.delete_user(p_user_id)))) #>> '{}')::integer;
    end if;
    perform tally.check_id(p_user_id, 'user_id');
    perform segments._lock_user(p_user_id);
    -- The lock the UPDATE below needs, taken now: it waits for a create_segment of an
    -- automatic segment (SHARE), so that segment is visible here and dated before this
    -- deletion; one that starts later waits for this one to commit.
    lock table segments.users in row exclusive mode;
    -- The live automatic segments the user's bucket falls into, FOR SHARE (in id order)
    -- against a concurrent delete_segment: one of the two ends each derived membership.
    perform s.id from segments.segments s
     where s.deleted_at is null and s.auto_percent > 0
       and segments._auto_member(p_user_id, s.slug, s.auto_percent)
     order by s.id
       for share;
    -- Lock first, then read the time (see delete_segment: an UPDATE that waits keeps
    -- the time from before the wait).
    v_now := clock_timestamp();

    insert into segments.history (user_id, segment_id, slug, operation, at)
    select d.user_id, d.segment_id, d.slug, 'add', d.at
      from segments._derived_adds('-infinity', 'infinity', p_user_id) d
     order by d.at, d.segment_id;

    -- The memberships end while the user is still live: its derived ones are read
    -- (_derived_memberships) in the statement that deletes its rows, as they were before.
    with ended as (
        delete from segments.memberships m
         where m.user_id = p_user_id
        returning m.segment_id, least(m.expires_at, v_now) as at
    ),
    derived as (
        select d.segment_id, v_now as at
          from segments._derived_memberships() d
         where d.user_id = p_user_id
    ),
    logged as (
        insert into segments.history (user_id, segment_id, slug, operation, at)
        select p_user_id, g.segment_id, s.slug, 'remove', g.at
          from (select * from ended union all select * from derived) g
          join segments.segments s on s.id = g.segment_id
         order by g.at, s.slug
        returning 1
    )
    select count(*)::integer into v_count from logged;
    update segments.users u set deleted_at = v_now where u.id = p_user_id;
    delete from segments.opt_outs o where o.user_id = p_user_id;
    return v_count;
end
$fn$;

grant execute on function segments.delete_user(bigint, text, text) to tally_app;
