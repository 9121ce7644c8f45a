-- create_segment(slug, auto_percent): a new segment. With auto_percent p (0-100, at most
-- two decimals) it is automatic: every live user whose bucket (_auto_bucket) is below
-- p * 100 is a member from now on, and so is every user created later with such a
-- bucket. Those memberships are derived, not stored (see user_segments), and so are the
-- history 'add' rows of the users present now (see _derived_adds): this writes only the
-- segment row, whatever the number of users. A deleted segment's slug may be taken again.
-- Returns the segment and how many users it reached automatically.
-- TLIA1 SLUG_INVALID, TLIA1 AUTO_PERCENT_INVALID, TLAE1 SLUG_TAKEN.
--   select * from segments.create_segment('AVITO_VOICE_MESSAGES');
--   select * from segments.create_segment('AVITO_DISCOUNT_30', 25.5);
create function segments.create_segment(p_slug text, p_auto_percent numeric default null,
                                        p_idempotency_key text default null,
                                        p_idempotency_scope text default '')
returns table (id bigint, slug text, auto_percent numeric, created_at timestamptz,
               auto_members bigint)
language plpgsql
security definer
set search_path = segments, pg_temp
as $fn$
#variable_conflict use_column
declare
    v_id bigint;
    v_created_at timestamptz;
    v_members bigint := 0::bigint;
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'segments.create_segment', jsonb_build_array(p_slug, p_auto_percent)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from segments.create_segment(p_slug, p_auto_percent) f))))
            as x (id bigint, slug text, auto_percent numeric, created_at timestamptz, auto_members bigint);
        return;
    end if;
    perform segments._check_slug(p_slug);
    if p_auto_percent is not null
       and (p_auto_percent not between 0 and 100 or p_auto_percent <> round(p_auto_percent, 2)) then
        perform tally.raise_error('TLIA1', 'AUTO_PERCENT_INVALID',
            'auto_percent must be 0 to 100 with at most two decimals', 'auto_percent');
    end if;

    if p_auto_percent > 0 then
        -- No user may be created or deleted until this commits: SHARE conflicts with
        -- create_user's and delete_user's ROW EXCLUSIVE, and waits for those in flight.
        -- So created_at below is later than every user created or deleted before, and
        -- earlier than every one after: the users present at this segment's creation
        -- (whose 'add' rows _derived_adds derives) are exactly those with
        -- users.created_at <= created_at still live, and every later user meets this
        -- segment in create_user.
        lock table segments.users in share mode;
    end if;

    insert into segments.segments as s (slug, auto_percent, created_at, adds_derived)
    values (p_slug, p_auto_percent, clock_timestamp(), true)
    on conflict (slug) where deleted_at is null do nothing
    returning s.id, s.created_at into v_id, v_created_at;
    if v_id is null then
        perform tally.raise_error('TLAE1', 'SLUG_TAKEN',
                                  format('segment %s already exists', p_slug), 'slug');
    end if;

    if p_auto_percent > 0 then
        select count(*) into v_members
          from segments.users u
         where u.deleted_at is null
           and segments._auto_member(u.id, p_slug, p_auto_percent);
    end if;

    return query select v_id, p_slug, p_auto_percent, v_created_at, v_members;
end
$fn$;

grant execute on function segments.create_segment(text, numeric, text, text) to tally_app;
