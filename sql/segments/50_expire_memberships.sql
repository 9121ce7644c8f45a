-- expire_memberships(scheduled_at): the bookkeeping of expiry, run every minute by the
-- job runner (server/segments.py JOBS). Memberships whose expiry has passed (by
-- clock_timestamp(); scheduled_at is only the run's name) are deleted, each with a
-- history 'remove' row dated at its expiry, and - where the segment's automatic share
-- holds the user - an opt-out, so the derived membership does not come back.
-- Idempotent: a membership is ended once.
-- Nothing depends on it having run: reads filter expired memberships out, and
-- export_history lists the ones not yet swept at their expiry.
--
-- It never waits: users being changed right now are skipped (update_user_segments ends
-- their expired memberships itself), as are memberships another transaction is ending;
-- the next run takes them. It ends at most p_max_users users' memberships per run.
-- Returns how many memberships it ended.
--   select segments.expire_memberships(now());
create function segments.expire_memberships(p_scheduled_at timestamptz default null,
                                            p_max_users integer default 50000)
returns bigint
language plpgsql
security definer
set search_path = segments, pg_temp
as $fn$
declare
    v_users bigint[];
    v_now timestamptz;
begin
    -- The user lock keeps this from ending a membership that update_user_segments (which
    -- holds it) is re-adding with a new expiry.
    select array_agg(u.id) into v_users
      from (select u.id from segments.users u
             where u.id in (select m.user_id from segments.memberships m
                             where m.expires_at <= clock_timestamp())
             order by u.id
             limit p_max_users
               for no key update skip locked) u;
    if v_users is null then
        return 0::bigint;
    end if;
    v_now := clock_timestamp();

    return segments._end_expired(v_users, v_now);
end
$fn$;

grant execute on function segments.expire_memberships(timestamptz, integer) to tally_jobs;
