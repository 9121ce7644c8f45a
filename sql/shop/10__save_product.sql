-- _save_product(product_id, name, description, price, stock_quantity, category_id): the
-- write of create_product (product_id null: a new product, every field but the
-- description required) and of update_product (the given fields of that product; null
-- leaves a field alone), under the rules both share: the fields checked by
-- _check_product, the price given parsed (_parse_price), an empty description stored as
-- none. Returns the product's row; TLNF1 PRODUCT_NOT_FOUND for an update of a product
-- that does not exist.
create function shop._save_product(p_product_id bigint, p_name text, p_description text,
                                   p_price numeric, p_stock_quantity integer,
                                   p_category_id bigint)
returns table (id bigint, name text, description text, price numeric, stock_quantity integer,
               category_id bigint, created_at timestamptz, updated_at timestamptz)
language plpgsql
as $fn$
begin
    perform shop._check_product(p_name, p_description, p_price, p_stock_quantity, p_category_id,
                                p_product_id is null);
    if p_product_id is null then
        return query
            insert into shop.products as p (name, description, price, stock_quantity, category_id)
            values (p_name, nullif(p_description, ''), p_price, p_stock_quantity, p_category_id)
            returning p.id, p.name, p.description, p.price, p.stock_quantity, p.category_id,
                      p.created_at, p.updated_at;
        return;
    end if;
    return query
        update shop.products p
           set name = coalesce(p_name, p.name),
               description = case when p_description is null then p.description
                                  else nullif(p_description, '') end,
               price = coalesce(p_price, p.price),
               stock_quantity = coalesce(p_stock_quantity, p.stock_quantity),
               category_id = coalesce(p_category_id, p.category_id),
               updated_at = now()
         where p.id = p_product_id
        returning p.id, p.name, p.description, p.price, p.stock_quantity, p.category_id,
                  p.created_at, p.updated_at;
    if not found then
        perform tally.raise_not_found('product', p_product_id);
    end if;
end
$fn$;
