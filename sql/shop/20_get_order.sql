-- get_order(order_id): the order with its lines. TLNF1 ORDER_NOT_FOUND, TLIA1 ORDER_ID_INVALID.
create function shop.get_order(p_order_id bigint)
returns table (id bigint, user_id bigint, delivery_address_id bigint, status shop.order_status,
               total_price numeric, created_at timestamptz, updated_at timestamptz, items jsonb)
language plpgsql
stable
security definer
set search_path = shop, pg_temp
as $fn$
begin
    perform tally.check_id(p_order_id, 'order_id');
    return query select * from shop._orders_with_items(array[p_order_id]);
    if not found then
        perform tally.raise_not_found('order', p_order_id);
    end if;
end
$fn$;

grant execute on function shop.get_order(bigint) to tally_app;
