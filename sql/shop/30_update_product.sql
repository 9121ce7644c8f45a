-- update_product(product_id, name?, description?, price?, stock_quantity?, category_id?):
-- changes only the fields given (null = leave alone; an empty description clears it).
-- Lines of orders already placed keep the category and price they were placed with.
-- TLNF1 PRODUCT_NOT_FOUND, CATEGORY_NOT_FOUND; TLIA1 PRODUCT_ID_INVALID and the
-- create_product reasons (the rules it shares with create_product: shop._save_product).
create function shop.update_product(p_product_id bigint, p_name text default null,
                                    p_description text default null, p_price text default null,
                                    p_stock_quantity integer default null,
                                    p_category_id bigint default null,
                                    p_idempotency_key text default null,
                                    p_idempotency_scope text default '')
returns table (id bigint, name text, description text, price numeric, stock_quantity integer,
               category_id bigint, created_at timestamptz, updated_at timestamptz)
language plpgsql
security definer
set search_path = shop, pg_temp
as $fn$
declare
    v_price numeric := shop._parse_price(p_price);
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'shop.update_product', jsonb_build_array(p_product_id, p_name, p_description, p_price, p_stock_quantity, p_category_id)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from shop.update_product(p_product_id, p_name, p_description, p_price, p_stock_quantity, p_category_id) f))))
            as x (id bigint, name text, description text, price numeric, stock_quantity integer, category_id bigint, created_at timestamptz, updated_at timestamptz);
        return;
    end if;
    perform tally.check_id(p_product_id, 'product_id');
    return query select * from shop._save_product(p_product_id, p_name, p_description, v_price,
                                                  p_stock_quantity, p_category_id);
end
$fn$;

grant execute on function shop.update_product(bigint, text, text, text, integer, bigint, text, text) to tally_app;
