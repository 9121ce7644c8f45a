-- create_user(user_id): the user, created if new (idempotent: a live user is returned
-- unchanged). A new user - or a deleted one created again - gets every automatic
-- segment its bucket falls into, with a history 'add' row each.
-- TLIA1 USER_ID_INVALID.
--   select * from segments.create_user(42);
create function segments.create_user(p_user_id bigint)
returns table (user_id bigint, created_at timestamptz, created boolean)
language plpgsql
security definer
set search_path = segments, pg_temp
as $fn$
#variable_conflict use_column
declare
    v_created_at timestamptz;
    v_now timestamptz;
begin
    perform segments._check_user_id(p_user_id);
    -- ROW EXCLUSIVE on users: waits for a create_segment that is materialising an
    -- automatic segment (it holds SHARE), so the new user is either seen by it or sees it.
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

    v_now := clock_timestamp();
    -- Lock the automatic segments against a concurrent delete_segment (which takes
    -- them FOR UPDATE): it then either sees this user's memberships or we skip it.
    with auto as (
        select s.id, s.slug
          from segments.segments s
         where s.deleted_at is null and s.auto_percent > 0
           and segments._auto_bucket(p_user_id, s.slug) < s.auto_percent * 100
         order by s.id
           for share
    ),
    added as (
        insert into segments.memberships (user_id, segment_id, added_at)
        select p_user_id, a.id, v_now from auto a
        on conflict do nothing
        returning segment_id
    )
    insert into segments.history (user_id, segment_id, slug, operation, at)
    select p_user_id, a.id, a.slug, 'add', v_now
      from added d join auto a on a.id = d.segment_id;

    return query select p_user_id, v_created_at, true;
end
$fn$;

grant execute on function segments.create_user(bigint) to tally_app;
