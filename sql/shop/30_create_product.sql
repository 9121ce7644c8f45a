-- create_product(name, description?, price, stock_quantity, category_id): a new product.
-- price is the exact decimal as text ("12.50"), never a float.
-- TLIA1 NAME_INVALID, DESCRIPTION_INVALID, PRICE_INVALID, STOCK_QUANTITY_INVALID,
-- CATEGORY_ID_INVALID; TLNF1 CATEGORY_NOT_FOUND. The rules it shares with update_product
-- are shop._save_product's.
create function shop.create_product(p_name text, p_description text, p_price text,
                                    p_stock_quantity integer, p_category_id bigint,
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
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'shop.create_product', jsonb_build_array(p_name, p_description, p_price, p_stock_quantity, p_category_id)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from shop.create_product(p_name, p_description, p_price, p_stock_quantity, p_category_id) f))))
            as x (id bigint, name text, description text, price numeric, stock_quantity integer, category_id bigint, created_at timestamptz, updated_at timestamptz);
        return;
    end if;
    return query select * from shop._save_product(null, p_name, p_description, v_price,
                                                  p_stock_quantity, p_category_id);
end
$fn$;

grant execute on function shop.create_product(text, text, text, integer, bigint, text, text) to tally_app;
