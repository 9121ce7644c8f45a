-- list_addresses(user_id): the user's addresses, the primary one first.
-- TLNF1 USER_NOT_FOUND, TLIA1 USER_ID_INVALID.
create function shop.list_addresses(p_user_id bigint)
returns table (id bigint, user_id bigint, street text, city text, state text, zip_code text,
               country text, is_primary boolean, created_at timestamptz)
language plpgsql
stable
security definer
set search_path = shop, pg_temp
as $fn$
begin
    perform tally.check_id(p_user_id, 'user_id');
    if not exists (select 1 from shop.users u where u.id = p_user_id) then
        perform tally.raise_not_found('user', p_user_id);
    end if;
    return query
        select a.id, a.user_id, a.street, a.city, a.state, a.zip_code, a.country,
               a.is_primary, a.created_at
          from shop.addresses a
         where a.user_id = p_user_id
         order by a.is_primary desc, a.id;
end
$fn$;

grant execute on function shop.list_addresses(bigint) to tally_app;
