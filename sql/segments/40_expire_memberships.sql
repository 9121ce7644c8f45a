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
    v_count bigint;
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
        return 0;
    end if;
    v_now := clock_timestamp();

    with doomed as (
        select m.user_id, m.segment_id
          from segments.memberships m
         where m.user_id = any (v_users) and m.expires_at <= v_now
           for update skip locked
    ),
    ended as (
        delete from segments.memberships m
         using doomed d
         where m.user_id = d.user_id and m.segment_id = d.segment_id
        returning m.user_id, m.segment_id, m.expires_at
    ),
    gone as (
        select e.user_id, e.segment_id, e.expires_at, s.slug,
               s.deleted_at is null
               and segments._auto_member(e.user_id, s.slug, s.auto_percent) as auto
          from ended e join segments.segments s on s.id = e.segment_id
    ),
    opted_out as (
        insert into segments.opt_outs (user_id, segment_id)
        select g.user_id, g.segment_id from gone g where g.auto
        on conflict do nothing
    ),
    logged as (
        insert into segments.history (user_id, segment_id, slug, operation, at)
        select g.user_id, g.segment_id, g.slug, 'remove', g.expires_at
          from gone g
         order by g.expires_at
        returning 1
    )
    select count(*) into v_count from logged;
    return v_count;
end
$fn$;

grant execute on function segments.expire_memberships(timestamptz, integer) to tally_app;
