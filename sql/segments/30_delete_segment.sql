-- delete_segment(slug): every member loses the segment, with a history 'remove' row
-- each (derived automatic members included; a membership whose expiry had passed is
-- dated at it), and the segment is marked deleted, so its slug may be taken again.
-- Returns how many memberships ended.
-- TLNF1 SEGMENT_NOT_FOUND, TLIA1 SLUG_INVALID.
--   select segments.delete_segment('AVITO_VOICE_MESSAGES');
create function segments.delete_segment(p_slug text,
                                        p_idempotency_key text default null,
                                        p_idempotency_scope text default '')
returns bigint
language plpgsql
security definer
set search_path = segments, pg_temp
as $fn$
declare
    v_id bigint;
    v_auto_percent numeric;
    v_now timestamptz;
    v_derived bigint := 0::bigint;
    v_explicit bigint;
begin
    if p_idempotency_key is not null then
        return (coalesce(tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'segments.delete_segment', jsonb_build_array(p_slug)),
                         tally._idempotent_record(to_jsonb(segments.delete_segment(p_slug)))) #>> '{}')::bigint;
    end if;
    perform segments._check_slug(p_slug);
    -- The row lock conflicts with the FOR SHARE that update_user_segments, create_user
    -- and delete_user take on a segment before they add to it or end its memberships, so
    -- the members read below stay as read until this commits. "Now" is read only once
    -- it is held: an UPDATE that waited for a FOR SHARE would keep the time from before
    -- the wait, and date the removals before the adds it waited for.
    select s.id, s.auto_percent into v_id, v_auto_percent from segments.segments s
     where s.slug = p_slug and s.deleted_at is null
       for update;
    if v_id is null then
        perform tally.raise_error('TLNF1', 'SEGMENT_NOT_FOUND',
                                  format('segment %s not found', p_slug), 'slug');
    end if;
    v_now := clock_timestamp();

    -- Derived members (_derived_memberships) first, while the segment is live and the
    -- explicit rows are still there to tell them apart.
    if v_auto_percent > 0 then
        with logged as (
            insert into segments.history (user_id, segment_id, slug, operation, at)
            select d.user_id, v_id, p_slug, 'remove', v_now
              from segments._derived_memberships() d
             where d.segment_id = v_id
            returning 1
        )
        select count(*) into v_derived from logged;
        delete from segments.opt_outs o where o.segment_id = v_id;
    end if;
    update segments.segments s set deleted_at = v_now where s.id = v_id;

    with ended as (
        delete from segments.memberships m
         where m.segment_id = v_id
        returning m.user_id, m.expires_at
    ),
    logged as (
        insert into segments.history (user_id, segment_id, slug, operation, at)
        select e.user_id, v_id, p_slug, 'remove', least(e.expires_at, v_now)
          from ended e
        returning 1
    )
    select count(*) into v_explicit from logged;
    return v_derived + v_explicit;
end
$fn$;

grant execute on function segments.delete_segment(text, text, text) to tally_app;
