-- _item_json(product_id, quantity, price_at_order): one order line as the API returns it,
-- {product_id, quantity, price_at_order (decimal text, "12.50")}. Every order read or
-- placed builds its items from this. A plain SQL function, so the planner inlines it
-- (stable, as jsonb_build_object is: an immutable one would not be inlined).
create function shop._item_json(p_product_id bigint, p_quantity bigint, p_price_at_order numeric)
returns jsonb
language sql
stable
parallel safe
return jsonb_build_object('product_id', p_product_id, 'quantity', p_quantity,
                          'price_at_order', p_price_at_order::text);
