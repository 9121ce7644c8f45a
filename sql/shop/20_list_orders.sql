-- list_orders(user_id?, status?, count = 10, page = 1): a page of orders, newest first,
-- each row with the number of matches (a page past the end: one row with the total and
-- null order columns). TLIA1 COUNT_INVALID, PAGE_INVALID.
create function shop.list_orders(p_user_id bigint default null, p_status shop.order_status default null,
                                 p_count integer default 10, p_page integer default 1)
returns table (total bigint, id bigint, user_id bigint, delivery_address_id bigint,
               status shop.order_status, total_price numeric, created_at timestamptz,
               updated_at timestamptz, items jsonb)
language plpgsql
stable
security definer
set search_path = shop, pg_temp
as $fn$
begin
    perform shop._check_page(p_count, p_page);
    return query
        with m as (
            select x.id, x.created_at from shop.orders x
             where (p_user_id is null or x.user_id = p_user_id)
               and (p_status is null or x.status = p_status)
        ),
        page as (
            select m.id, m.created_at from m order by m.created_at desc, m.id desc
             limit p_count offset (p_page - 1)::bigint * p_count
        )
        select t.total, o.id, o.user_id, o.delivery_address_id, o.status, o.total_price,
               o.created_at, o.updated_at, o.items
          from (select count(*) as total from m) t
          left join (select * from shop._orders_with_items(array(select page.id from page))) o on true
         order by o.created_at desc, o.id desc;
end
$fn$;

grant execute on function shop.list_orders(bigint, shop.order_status, integer, integer) to tally_app;
