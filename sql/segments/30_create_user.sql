-- create_user(user_id): the user, created if new (idempotent: a live user is returned
-- unchanged). A new user - or a deleted one created again - is a member of every live
-- automatic segment its bucket falls into (derived, see user_segments), from its
-- created_at; this writes the history 'add' row of each.
-- TLIA1 USER_ID_INVALID.
--   select * from segments.create_user(42);
create function segments.create_user(p_user_id bigint,
                                     p_idempotency_key text default null,
                                     p_idempotency_scope text default '')
returns table (user_id bigint, created_at timestamptz, created boolean)
language plpgsql
security definer
set search_path = segments, pg_temp
as $fn$
#variable_conflict use_column
declare
    v_created_at timestamptz;
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'segments.create_user', jsonb_build_array(p_user_id)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from segments.create_user(p_user_id) f))))
            as x (user_id bigint, created_at timestamptz, created boolean);
        return;
    end if;
    perform tally.check_id(p_user_id, 'user_id');
    -- ROW EXCLUSIVE on users: waits for a create_segment of an automatic segment (it
    -- holds SHARE until it commits), so this user's created_at is later than that
    -- segment's, and the segment is visible to the statement below. A user inserted while
    -- no such segment was being created is older than any segment created after.
    insert into segments.users as u (id, created_at)
    values (p_user_id, clock_timestamp())
    on conflict on constraint users_pkey do update
        set created_at = clock_timestamp(), deleted_at = null
        where u.deleted_at is not null
    returning u.created_at into v_created_at;

    if v_created_at is null then  -- already there and live
        return query select u.id, u.created_at, false from segments.users u
                      where u.id = p_user_id;
        return;
    end if;

    -- The automatic segments, locked FOR SHARE against a concurrent delete_segment
    -- (which takes them FOR UPDATE): it then either counts this user among the members
    -- it ends, or this skips the segment it deleted.
    insert into segments.history (user_id, segment_id, slug, operation, at)
    select p_user_id, a.id, a.slug, 'add', v_created_at
      from (select s.id, s.slug
              from segments.segments s
             where s.deleted_at is null and s.auto_percent > 0
               and segments._auto_member(p_user_id, s.slug, s.auto_percent)
             order by s.id
               for share) a
     order by a.id;

    return query select p_user_id, v_created_at, true;
end
$fn$;

grant execute on function segments.create_user(bigint, text, text) to tally_app;
