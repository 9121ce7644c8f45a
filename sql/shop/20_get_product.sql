-- get_product(product_id): the product. TLNF1 PRODUCT_NOT_FOUND, TLIA1 PRODUCT_ID_INVALID.
create function shop.get_product(p_product_id bigint)
returns table (id bigint, name text, description text, price numeric, stock_quantity integer,
               category_id bigint, created_at timestamptz, updated_at timestamptz)
language plpgsql
stable
security definer
set search_path = shop, pg_temp
as $fn$
begin
    perform tally.check_id(p_product_id, 'product_id');
    return query
        select p.id, p.name, p.description, p.price, p.stock_quantity, p.category_id,
               p.created_at, p.updated_at
          from shop.products p where p.id = p_product_id;
    if not found then
        perform tally.raise_not_found('product', p_product_id);
    end if;
end
$fn$;

grant execute on function shop.get_product(bigint) to tally_app;
