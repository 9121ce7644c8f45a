-- delete_segment(slug): every member loses the segment, with a history 'remove' row
-- each (automatic members included; one whose expiry had passed is dated at it), and
-- the segment is marked deleted, so its slug may be taken again. Returns how many
-- memberships ended.
-- TLNF1 SEGMENT_NOT_FOUND, TLIA1 SLUG_INVALID.
--   select segments.delete_segment('AVITO_VOICE_MESSAGES');
create function segments.delete_segment(p_slug text)
returns bigint
language plpgsql
security definer
set search_path = segments, pg_temp
as $fn$
declare
    v_id bigint;
    v_now timestamptz;
    v_count bigint;
begin
    perform segments._check_slug(p_slug);
    -- The row lock conflicts with the FOR SHARE that update_user_segments and
    -- create_user take on a segment before adding to it. "Now" is read only once it is
    -- held: an UPDATE that waited for a FOR SHARE would keep the time from before the
    -- wait, and date the removals before the adds it waited for.
    select s.id into v_id from segments.segments s
     where s.slug = p_slug and s.deleted_at is null
       for update;
    if v_id is null then
        perform tally.raise_error('TLNF1', 'SEGMENT_NOT_FOUND',
                                  format('segment %s not found', p_slug), 'slug');
    end if;
    v_now := clock_timestamp();
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
    select count(*) into v_count from logged;
    return v_count;
end
$fn$;

grant execute on function segments.delete_segment(text) to tally_app;
