-- _orders_with_items(ids[]): orders as the API returns them, with their lines as a JSON
-- array of _item_json ordered by product id.
create function shop._orders_with_items(p_order_ids bigint[])
returns table (id bigint, user_id bigint, delivery_address_id bigint, status shop.order_status,
               total_price numeric, created_at timestamptz, updated_at timestamptz, items jsonb)
language sql
stable
as $fn$
    select o.id, o.user_id, o.delivery_address_id, o.status, o.total_price, o.created_at,
           o.updated_at,
           (select coalesce(jsonb_agg(shop._item_json(i.product_id, i.quantity, i.price_at_order)
                                      order by i.product_id), '[]'::jsonb)
              from shop.order_items i where i.order_id = o.id)
      from shop.orders o
     where o.id = any (p_order_ids);
$fn$;
