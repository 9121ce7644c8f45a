-- get_user(user_id): the user. TLNF1 USER_NOT_FOUND, TLIA1 USER_ID_INVALID.
create function shop.get_user(p_user_id bigint)
returns table (id bigint, username text, email text, description text,
               created_at timestamptz, updated_at timestamptz)
language plpgsql
stable
security definer
set search_path = shop, pg_temp
as $fn$
begin
    perform tally.check_id(p_user_id, 'user_id');
    return query
        select u.id, u.username, u.email, u.description, u.created_at, u.updated_at
          from shop.users u where u.id = p_user_id;
    if not found then
        perform tally.raise_not_found('user', p_user_id);
    end if;
end
$fn$;

grant execute on function shop.get_user(bigint) to tally_app;
