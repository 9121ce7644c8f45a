-- create_order(user_id, delivery_address_id, product_ids[], quantities[]): places an order
-- in one round trip. Repeated products are merged into one line. Either every line is
-- covered by stock and the whole order is placed (stock decremented, prices copied into
-- price_at_order, total computed), or nothing changes:
--   TLIA1 USER_ID_INVALID, ADDRESS_ID_INVALID, ITEMS_EMPTY (none, or arrays of different
--         lengths, or more than 100 lines), PRODUCT_ID_INVALID, QUANTITY_INVALID (< 1);
--   TLNF1 USER_NOT_FOUND, ADDRESS_NOT_FOUND (missing, or not this user's), PRODUCT_NOT_FOUND;
--   TLFP1 INSUFFICIENT_STOCK - HINT holds {"precondition_failure": [{type, subject,
--         description, product_id, available, requested}, ...]}, one per short product.
-- The rules live in three private helpers that shop.create_orders shares:
-- shop._check_orders (the order itself), shop._take_stock (stock never goes negative:
-- products locked in id order, one conditional UPDATE) and shop._place_orders.
create function shop.create_order(p_user_id bigint, p_delivery_address_id bigint,
                                  p_product_ids bigint[], p_quantities integer[],
                                  p_idempotency_key text default null,
                                  p_idempotency_scope text default '')
returns table (id bigint, user_id bigint, delivery_address_id bigint, status shop.order_status,
               total_price numeric, created_at timestamptz, updated_at timestamptz, items jsonb)
language plpgsql
security definer
set search_path = shop, pg_temp
-- Generic plans, as in create_orders: the helpers' statements take arrays, and planning
-- them anew for every call cost more than running them.
set plan_cache_mode = force_generic_plan
as $fn$
declare
    -- The order's lines all belong to order 1 of a batch of one. Arrays of different
    -- lengths pair no product with a quantity: no lines at all (ITEMS_EMPTY).
    v_lines integer[] := array_fill(1, array[case
        when cardinality(p_product_ids) is not distinct from cardinality(p_quantities)
            then coalesce(cardinality(p_product_ids), 0)
        else 0 end]);
    r record;
begin
    if p_idempotency_key is not null then
        return query select * from jsonb_to_recordset(coalesce(
            tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'shop.create_order', jsonb_build_array(p_user_id, p_delivery_address_id, p_product_ids, p_quantities)),
            tally._idempotent_record((select coalesce(jsonb_agg(to_jsonb(f)), '[]') from shop.create_order(p_user_id, p_delivery_address_id, p_product_ids, p_quantities) f))))
            as x (id bigint, user_id bigint, delivery_address_id bigint, status shop.order_status, total_price numeric, created_at timestamptz, updated_at timestamptz, items jsonb);
        return;
    end if;
    select c.error_sqlstate, c.error_reason, c.error_message, c.error_field into r
      from shop._check_orders(array[p_user_id], array[p_delivery_address_id], v_lines,
                              p_product_ids, p_quantities) c
     where c.error_sqlstate is not null;
    if found then
        perform tally.raise_error(r.error_sqlstate, r.error_reason, r.error_message,
                                  r.error_field);
    end if;
    return query
        select o.id, o.user_id, o.delivery_address_id, o.status, o.total_price, o.created_at,
               o.updated_at, o.items
          from shop._place_orders(array[p_user_id], array[p_delivery_address_id], v_lines,
                                  p_product_ids, p_quantities) o;
end
$fn$;

grant execute on function shop.create_order(bigint, bigint, bigint[], integer[], text, text) to tally_app;
