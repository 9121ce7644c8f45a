-- delete_product(product_id): deletes the product; refused while order lines reference it
-- (the foreign key order_items_product_fk decides: shop._delete_unless_ordered).
-- TLNF1 PRODUCT_NOT_FOUND, TLFP1 PRODUCT_HAS_ORDERS, TLIA1 PRODUCT_ID_INVALID.
create function shop.delete_product(p_product_id bigint,
                                    p_idempotency_key text default null,
                                    p_idempotency_scope text default '')
returns void
language plpgsql
security definer
set search_path = shop, pg_temp
as $fn$
begin
    perform shop._delete_unless_ordered('product', p_product_id, p_idempotency_key, p_idempotency_scope);
end
$fn$;

grant execute on function shop.delete_product(bigint, text, text) to tally_app;
