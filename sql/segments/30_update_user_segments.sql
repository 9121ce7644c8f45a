-- update_user_segments(user_id, add_slugs, remove_slugs, add_expires_at, add_ttls): adds
-- and removes the user's segments in one transaction. add_expires_at[i] or add_ttls[i]
-- (not both; null: no expiry) gives add_slugs[i] an expiry.
--
-- The rules:
--   * the user's row is locked first (FOR NO KEY UPDATE), so concurrent updates of one
--     user run one after another: the result equals some serial order, and "now"
--     (clock_timestamp() once the lock is held) orders the history the same way;
--   * everything is checked before anything changes: any error leaves all as it was;
--   * adding a segment the user has keeps the membership (no second history row); the
--     expiry given - or none - replaces the old one;
--   * removing a segment the user does not have is a no-op, reported as changed = false;
--   * automatic segments (see user_segments for derived memberships): adding one the user
--     has by derivation keeps it (no history row; with an expiry, a memberships row
--     carries the expiry and the same added_at); removing it, or removing an explicit
--     membership of a segment whose automatic share holds the user, leaves an opt-out,
--     so the removal sticks; adding it after that is a new membership (an explicit row,
--     the opt-out dropped, an 'add' row);
--   * a membership of this user whose expiry has passed is ended first (history dated at
--     its expiry, an opt-out where the automatic share holds the user), so it counts as
--     absent here and a re-add is a new 'add'.
-- Returns one row per slug: operation 'add' (changed: a new membership) or 'remove'
-- (changed: the user had it), in request order, adds first.
-- TLIA1 USER_ID_INVALID, SLUG_INVALID, SLUG_REPEATED, SLUG_IN_ADD_AND_REMOVE,
--   EXPIRY_AMBIGUOUS, TTL_INVALID, EXPIRES_AT_IN_PAST, EXPIRY_OUT_OF_RANGE,
--   BATCH_SHAPE_INVALID;
-- TLNF1 USER_NOT_FOUND, SEGMENT_NOT_FOUND (the message names the slug).
--   select * from segments.update_user_segments(42, array['AVITO_VOICE_MESSAGES'],
--                                               array['AVITO_DISCOUNT_30']);
--   select * from segments.update_user_segments(42, array['TRIAL'],
--                                               p_add_ttls => array[interval '2 days']);
create function segments.update_user_segments(
    p_user_id bigint,
    p_add_slugs text[] default '{}',
    p_remove_slugs text[] default '{}',
    p_add_expires_at timestamptz[] default null,
    p_add_ttls interval[] default null,
    p_idempotency_key text default null,
    p_idempotency_scope text default '')
returns table (operation text, slug text, expires_at timestamptz, changed boolean)
language plpgsql
security definer
set search_path = segments, pg_temp
-- Generic plans: planned anew for every call (PL/pgSQL's default while a custom plan looks
-- cheaper), the main statement and _end_expired's cost 1.1 ms of the 1.3 ms a call took
-- (measured on the benchmark's 100,000 users); with the plans kept, 0.24 ms. The checks
-- above are hashed set operations and the joins go through indexes, whatever the
-- arrays' estimated lengths, so one plan serves 1 slug and 20,000.
set plan_cache_mode = force_generic_plan
as $fn$
#variable_conflict use_column
declare
    v_add text[] := coalesce(p_add_slugs, '{}');
    v_remove text[] := coalesce(p_remove_slugs, '{}');
    v_n integer := cardinality(coalesce(p_add_slugs, '{}'));
    v_now timestamptz;
    v_bad text;
    v_ord integer;
    v_field text := 'add';
    v_found bigint;
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'segments.update_user_segments', jsonb_build_array(p_user_id, p_add_slugs, p_remove_slugs, p_add_expires_at, p_add_ttls)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from segments.update_user_segments(p_user_id, p_add_slugs, p_remove_slugs, p_add_expires_at, p_add_ttls) f))))
            as x (operation text, slug text, expires_at timestamptz, changed boolean);
        return;
    end if;
    perform tally.check_id(p_user_id, 'user_id');
    if (p_add_expires_at is not null and cardinality(p_add_expires_at) <> v_n)
       or (p_add_ttls is not null and cardinality(p_add_ttls) <> v_n) then
        perform tally.raise_error('TLIA1', 'BATCH_SHAPE_INVALID',
            'add_expires_at and add_ttls must be as long as add_slugs', 'add');
    end if;
    -- Every check below is one pass over the input, a grouping or a set operation (hashed),
    -- so a call costs time linear in its slugs, never a slug compared with every other:
    -- a join of two unnest()s would be planned as a nested loop (they are estimated at a
    -- few rows each), 20,000 x 20,000 comparisons.
    select r.slug, r.ord::integer into v_bad, v_ord
      from unnest(v_add || v_remove) with ordinality as r (slug, ord)
     where r.slug is null or r.slug !~ '^[A-Za-z0-9_.-]{1,128}$'
     order by r.ord limit 1;
    if found then  -- _check_slug raises its error, naming the list
        perform segments._check_slug(v_bad, case when v_ord <= v_n then 'add' else 'remove' end);
    end if;
    select a into v_bad from unnest(v_add) a group by a having count(*) > 1 limit 1;
    if v_bad is null then
        select r into v_bad from unnest(v_remove) r group by r having count(*) > 1 limit 1;
        v_field := 'remove';
    end if;
    if v_bad is not null then
        perform tally.raise_error('TLIA1', 'SLUG_REPEATED',
                                  format('segment %s is listed twice', v_bad), v_field);
    end if;
    select b.slug into v_bad
      from (select unnest(v_add) intersect select unnest(v_remove)) as b (slug)
     limit 1;
    if v_bad is not null then
        perform tally.raise_error('TLIA1', 'SLUG_IN_ADD_AND_REMOVE',
            format('segment %s is both added and removed', v_bad), 'remove');
    end if;
    select r.slug into v_bad
      from unnest(v_add, p_add_expires_at, p_add_ttls) with ordinality as r (slug, expires_at, ttl, ord)
     where r.expires_at is not null and r.ttl is not null
     order by r.ord limit 1;
    if v_bad is not null then
        perform tally.raise_error('TLIA1', 'EXPIRY_AMBIGUOUS',
            format('segment %s has both expires_at and ttl', v_bad), 'add');
    end if;
    select r.slug into v_bad
      from unnest(v_add, p_add_ttls) with ordinality as r (slug, ttl, ord)
     where r.ttl <= interval '0'
     order by r.ord limit 1;
    if v_bad is not null then
        perform tally.raise_error('TLIA1', 'TTL_INVALID',
            format('ttl of segment %s must be positive', v_bad), 'add');
    end if;

    perform segments._lock_user(p_user_id);

    -- The segments, locked FOR SHARE in id order against a concurrent delete_segment
    -- (re-checked after any wait: a segment deleted meanwhile is then not found). While
    -- they are locked no live segment of these slugs can end or appear, so below they
    -- are read again by slug (joins of the input with the table: an index lookup or a
    -- hash per slug, never a slug compared with every other).
    select count(*) into v_found
      from (select s.id
              from segments.segments s
              join unnest(v_add || v_remove) as q (slug) on q.slug = s.slug
             where s.deleted_at is null
             order by s.id
               for share of s) l;
    if v_found < v_n + cardinality(v_remove) then
        select r.slug, r.ord::integer into v_bad, v_ord
          from unnest(v_add || v_remove) with ordinality as r (slug, ord)
          left join segments.segments s on s.slug = r.slug and s.deleted_at is null
         where s.id is null
         order by r.ord limit 1;
        perform tally.raise_error('TLNF1', 'SEGMENT_NOT_FOUND',
            format('segment %s not found', v_bad),
            case when v_ord <= v_n then 'add' else 'remove' end);
    end if;

    v_now := clock_timestamp();
    select r.slug into v_bad
      from unnest(v_add, p_add_expires_at) as r (slug, expires_at)
     where r.expires_at <= v_now limit 1;
    if v_bad is not null then
        perform tally.raise_error('TLIA1', 'EXPIRES_AT_IN_PAST',
            format('expiry of segment %s is not in the future', v_bad), 'add');
    end if;
    -- Clients (protobuf Timestamp, most languages' date types) end at year 9999.
    select r.slug into v_bad
      from unnest(v_add, p_add_expires_at, p_add_ttls) as r (slug, expires_at, ttl)
     where coalesce(r.expires_at, v_now + r.ttl) >= timestamptz '10000-01-01 00:00:00+00'
     limit 1;
    if v_bad is not null then
        perform tally.raise_error('TLIA1', 'EXPIRY_OUT_OF_RANGE',
            format('expiry of segment %s must be before the year 10000', v_bad), 'add');
    end if;

    -- From here on nothing fails: changes only.
    -- 1. This user's memberships that have expired end now, dated at their expiry, so
    --    below they count as absent (a re-add is a new membership). Where the automatic
    --    share holds the user, an opt-out keeps the segment from coming back.
    perform segments._end_expired(array[p_user_id], v_now);

    -- 2. Removals and adds (disjoint sets of segments), with their history, in one
    --    statement (a data-modifying WITH runs to completion whether or not it is read).
    --    had: what the user had of each segment before - 'explicit' (an active row),
    --    'derived' (_derived_memberships, with its added_at), 'opted_out' (the share
    --    holds the user, who ended it) or 'none'. Nobody else changes these rows
    --    meanwhile: the user's row and the segments are locked.
    return query
    with req as (
        select r.ord::integer as ord, r.slug, true as is_add, s.id as segment_id,
               coalesce(r.expires_at, v_now + r.ttl) as expires_at,
               segments._auto_member(p_user_id, s.slug, s.auto_percent) as auto
          from unnest(v_add,
                      coalesce(p_add_expires_at, array_fill(null::timestamptz, array[v_n])),
                      coalesce(p_add_ttls, array_fill(null::interval, array[v_n])))
               with ordinality as r (slug, expires_at, ttl, ord)
          join segments.segments s on s.slug = r.slug and s.deleted_at is null
        union all
        select v_n + r.ord::integer, r.slug, false, s.id, null,
               segments._auto_member(p_user_id, s.slug, s.auto_percent)
          from unnest(v_remove) with ordinality as r (slug, ord)
          join segments.segments s on s.slug = r.slug and s.deleted_at is null
    ),
    st as (
        select q.*,
               case when exists (select 1 from segments.memberships m
                                  where m.user_id = p_user_id
                                    and m.segment_id = q.segment_id) then 'explicit'
                    when q.derived_added_at is not null then 'derived'
                    when exists (select 1 from segments.opt_outs o
                                  where o.user_id = p_user_id
                                    and o.segment_id = q.segment_id) then 'opted_out'
                    else 'none'
               end as had
          from (select r.*,
                       (select d.added_at from segments._derived_memberships() d
                         where d.user_id = p_user_id
                           and d.segment_id = r.segment_id) as derived_added_at
                  from req r) q
    ),
    removed as (
        delete from segments.memberships m
         using st
         where not st.is_add and st.had = 'explicit'
           and m.user_id = p_user_id and m.segment_id = st.segment_id
    ),
    opted_out as (
        insert into segments.opt_outs (user_id, segment_id)
        select p_user_id, st.segment_id
          from st
         where not st.is_add and st.auto and st.had in ('explicit', 'derived')
        on conflict do nothing
    ),
    opted_in as (
        delete from segments.opt_outs o
         using st
         where st.is_add and st.had = 'opted_out'
           and o.user_id = p_user_id and o.segment_id = st.segment_id
    ),
    upserted as (
        -- A derived membership needs a row only to carry an expiry; it keeps its added_at.
        insert into segments.memberships as m (user_id, segment_id, expires_at, added_at)
        select p_user_id, st.segment_id, st.expires_at,
               case when st.had = 'derived' then st.derived_added_at else v_now end
          from st
         where st.is_add and (st.had <> 'derived' or st.expires_at is not null)
         order by st.segment_id
        on conflict on constraint memberships_pkey
            do update set expires_at = excluded.expires_at
    ),
    logged as (
        insert into segments.history (user_id, segment_id, slug, operation, at)
        select p_user_id, st.segment_id, st.slug,
               case when st.is_add then 'add' else 'remove' end::segments.operation, v_now
          from st
         where st.is_add = (st.had in ('none', 'opted_out'))
         order by st.ord
    )
    select case when st.is_add then 'add' else 'remove' end, st.slug, st.expires_at,
           st.is_add = (st.had in ('none', 'opted_out'))
      from st
     order by st.ord;
end
$fn$;

grant execute on function segments.update_user_segments(bigint, text[], text[], timestamptz[], interval[], text, text)
    to tally_app;
