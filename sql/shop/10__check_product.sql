-- _check_product(name, description, price, stock_quantity, category_id, new): the rules of
-- a product's fields, for create_product (new: every field but the description is
-- required) and update_product (not new: null means "leave alone" and is not checked).
-- The price comes parsed (shop._parse_price). TLIA1 NAME_INVALID (1-200 characters),
-- PRICE_INVALID (required), DESCRIPTION_INVALID (at most 2000), STOCK_QUANTITY_INVALID
-- (zero or more), CATEGORY_ID_INVALID; TLNF1 CATEGORY_NOT_FOUND.
create function shop._check_product(p_name text, p_description text, p_price numeric,
                                    p_stock integer, p_category_id bigint, p_new boolean)
returns void
language plpgsql
stable
as $fn$
begin
    if (p_new and p_name is null) or char_length(p_name) not between 1 and 200 then
        perform tally.raise_error('TLIA1', 'NAME_INVALID', 'name must be 1 to 200 characters', 'name');
    end if;
    if p_new and p_price is null then
        perform tally.raise_error('TLIA1', 'PRICE_INVALID', 'price is required, like "12.50"', 'price');
    end if;
    if char_length(p_description) > 2000 then
        perform tally.raise_error('TLIA1', 'DESCRIPTION_INVALID',
            'description must be at most 2000 characters', 'description');
    end if;
    if (p_new and p_stock is null) or p_stock < 0 then
        perform tally.raise_error('TLIA1', 'STOCK_QUANTITY_INVALID',
            'stock_quantity must be zero or more', 'stock_quantity');
    end if;
    if p_new then
        perform tally.check_id(p_category_id, 'category_id');
    end if;
    if p_category_id is not null
       and not exists (select 1 from shop.categories c where c.id = p_category_id) then
        perform tally.raise_not_found('category', p_category_id);
    end if;
end
$fn$;
