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
    if p_order_id is null or p_order_id < 1 then
        perform tally.raise_error('TLIA1', 'ORDER_ID_INVALID', 'order_id must be a positive id', 'order_id');
    end if;
    return query select * from shop._orders_with_items(array[p_order_id]);
    if not found then
        perform tally.raise_error('TLNF1', 'ORDER_NOT_FOUND', format('order %s not found', p_order_id), 'order_id');
    end if;
end
$fn$;

grant execute on function shop.get_order(bigint) to tally_app;
