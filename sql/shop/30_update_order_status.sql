-- update_order_status(order_id, status): moves an order along
--   PENDING -> PAID -> SHIPPED -> DELIVERED, and PENDING or PAID -> CANCELLED.
-- Cancelling gives every line's quantity back to its product's stock, in the same
-- transaction. Sales statistics count placed orders: a cancellation leaves them as they are.
-- TLFP1 BAD_TRANSITION (any other move, including to the same status), TLNF1
-- ORDER_NOT_FOUND, TLIA1 ORDER_ID_INVALID, STATUS_INVALID (null).
create function shop.update_order_status(p_order_id bigint, p_status shop.order_status,
                                         p_idempotency_key text default null,
                                         p_idempotency_scope text default '')
returns table (id bigint, user_id bigint, delivery_address_id bigint, status shop.order_status,
               total_price numeric, created_at timestamptz, updated_at timestamptz, items jsonb)
language plpgsql
security definer
set search_path = shop, pg_temp
as $fn$
declare
    v_from shop.order_status;
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'shop.update_order_status', jsonb_build_array(p_order_id, p_status)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from shop.update_order_status(p_order_id, p_status) f))))
            as x (id bigint, user_id bigint, delivery_address_id bigint, status shop.order_status, total_price numeric, created_at timestamptz, updated_at timestamptz, items jsonb);
        return;
    end if;
    perform tally.check_id(p_order_id, 'order_id');
    if p_status is null then
        perform tally.raise_error('TLIA1', 'STATUS_INVALID', 'status is required', 'status');
    end if;
    -- One conditional UPDATE: two concurrent cancellations cannot both return the stock.
    update shop.orders o
       set status = p_status, updated_at = now()
     where o.id = p_order_id
       and (o.status, p_status) in (('PENDING', 'PAID'), ('PAID', 'SHIPPED'),
                                    ('SHIPPED', 'DELIVERED'), ('PENDING', 'CANCELLED'),
                                    ('PAID', 'CANCELLED'));
    if not found then
        select o.status into v_from from shop.orders o where o.id = p_order_id;
        if v_from is null then
            perform tally.raise_not_found('order', p_order_id);
        end if;
        perform tally.raise_error('TLFP1', 'BAD_TRANSITION',
            format('order %s cannot go from %s to %s', p_order_id, v_from, p_status), 'status');
    end if;
    if p_status = 'CANCELLED' then
        perform shop._lock_products(array(select i.product_id from shop.order_items i
                                           where i.order_id = p_order_id));
        update shop.products p
           set stock_quantity = p.stock_quantity + i.quantity
          from shop.order_items i
         where i.order_id = p_order_id and p.id = i.product_id;
    end if;
    return query select * from shop._orders_with_items(array[p_order_id]);
end
$fn$;

grant execute on function shop.update_order_status(bigint, shop.order_status, text, text) to tally_app;
