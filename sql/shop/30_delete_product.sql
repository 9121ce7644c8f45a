-- delete_product(product_id): deletes the product; refused while order lines reference it
-- (the foreign key order_items_product_fk decides).
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
    if p_idempotency_key is not null then
        perform coalesce(tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'shop.delete_product', jsonb_build_array(p_product_id)),
                         tally._idempotent_record((select 'true'::jsonb from shop.delete_product(p_product_id) f)));
        return;
    end if;
    perform tally.check_id(p_product_id, 'product_id');
    delete from shop.products p where p.id = p_product_id;
    if not found then
        perform tally.raise_not_found('product', p_product_id);
    end if;
exception when foreign_key_violation then
    perform tally.raise_error('TLFP1', 'PRODUCT_HAS_ORDERS',
        format('product %s is in orders and cannot be deleted', p_product_id), 'product_id');
end
$fn$;

grant execute on function shop.delete_product(bigint, text, text) to tally_app;
