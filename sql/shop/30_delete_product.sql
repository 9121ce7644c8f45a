-- delete_product(product_id): deletes the product; refused while order lines reference it
-- (the foreign key order_items_product_fk decides).
-- TLNF1 PRODUCT_NOT_FOUND, TLFP1 PRODUCT_HAS_ORDERS, TLIA1 PRODUCT_ID_INVALID.
create function shop.delete_product(p_product_id bigint)
returns void
language plpgsql
security definer
set search_path = shop, pg_temp
as $fn$
begin
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

grant execute on function shop.delete_product(bigint) to tally_app;
