-- list_users(count = 10, page = 1): a page of users by id, each row with the total number
-- of users. A page past the end gives one row with the total and null user columns.
-- TLIA1 COUNT_INVALID, PAGE_INVALID.
create function shop.list_users(p_count integer default 10, p_page integer default 1)
returns table (total bigint, id bigint, username text, email text, description text,
               created_at timestamptz, updated_at timestamptz)
language plpgsql
stable
security definer
set search_path = shop, pg_temp
as $fn$
begin
    perform shop._check_page(p_count, p_page);
    return query
        select t.total, u.id, u.username, u.email, u.description, u.created_at, u.updated_at
          from (select count(*) as total from shop.users) t
          left join lateral (
              select * from shop.users x order by x.id
               limit p_count offset (p_page - 1)::bigint * p_count) u on true;
end
$fn$;

grant execute on function shop.list_users(integer, integer) to tally_app;
