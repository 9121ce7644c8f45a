-- _check_product(name, description, stock_quantity, category_id): TLIA1 for a bad field,
-- TLNF1 CATEGORY_NOT_FOUND. Nulls are not checked (update_product: "leave alone").
create function shop._check_product(p_name text, p_description text, p_stock integer,
                                    p_category_id bigint)
returns void
language plpgsql
stable
as $fn$
begin
    if p_name is not null and char_length(p_name) not between 1 and 200 then
        perform tally.raise_error('TLIA1', 'NAME_INVALID', 'name must be 1 to 200 characters', 'name');
    end if;
    if p_description is not null and char_length(p_description) > 2000 then
        perform tally.raise_error('TLIA1', 'DESCRIPTION_INVALID',
            'description must be at most 2000 characters', 'description');
    end if;
    if p_stock is not null and p_stock < 0 then
        perform tally.raise_error('TLIA1', 'STOCK_QUANTITY_INVALID',
            'stock_quantity must be zero or more', 'stock_quantity');
    end if;
    if p_category_id is not null
       and not exists (select 1 from shop.categories c where c.id = p_category_id) then
        perform tally.raise_error('TLNF1', 'CATEGORY_NOT_FOUND',
            format('category %s not found', p_category_id), 'category_id');
    end if;
end
$fn$;
