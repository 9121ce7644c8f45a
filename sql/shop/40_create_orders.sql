-- create_orders(user_ids[], delivery_address_ids[], line_orders[], product_ids[], quantities[]):
-- many orders in one statement (the gRPC server groups concurrent CreateOrder calls here,
-- so they share one commit). Order i has the lines whose line_orders entry is i (1-based;
-- lines with any other entry belong to no order). Every order gets an outcome row, in
-- input order: the order, or the error it raised (sqlstate, reason, message, field, hint)
-- - one failing order never undoes the others. The outcome is always what
-- shop.create_order would give each order, called once per order in input order: both
-- go through the same helpers (shop._check_orders, shop._take_stock, shop._place_orders).
-- Either way every product of the batch is locked in id order before any stock is
-- taken, so concurrent batches queue instead of deadlocking:
--   - all at once, when no order breaks a rule of shop._check_orders: shop._place_orders
--     places the whole batch in a subtransaction - one UPDATE of the stock, one INSERT
--     of the orders, one INSERT of all lines (the statistics trigger runs once);
--   - otherwise, or when placing them at once raised a domain error (a missing product,
--     stock that does not cover the whole batch, a total that overflows, a constraint),
--     which is undone: one by one, shop.create_order in a subtransaction per order,
--     earlier orders taking stock first.
-- Only domain errors become outcomes: SQLSTATE class TL and the classes 22 (data) and 23
-- (constraints), which the server maps to client errors. Anything else (a deadlock, a
-- cancelled statement, a bug) fails the whole statement, and every caller sees it.
-- Plans are generic (plan_cache_mode, inherited by the helpers): the statements take
-- arrays whose sizes vary from call to call, and planning them anew for every call cost
-- more than running them.
-- TLIA1 BATCH_SHAPE_INVALID (arrays of different lengths).
create function shop.create_orders(p_user_ids bigint[], p_delivery_address_ids bigint[],
                                   p_line_orders integer[], p_product_ids bigint[],
                                   p_quantities integer[],
                                   p_idempotency_keys text[] default null,
                                   p_idempotency_scopes text[] default null)
returns table (ord integer, id bigint, user_id bigint, delivery_address_id bigint,
               status shop.order_status, total_price numeric, created_at timestamptz,
               updated_at timestamptz, items jsonb, error_sqlstate text, error_reason text,
               error_message text, error_field text, error_hint text)
language plpgsql
security definer
set search_path = shop, pg_temp
set plan_cache_mode = force_generic_plan
as $fn$
declare
    v_plan tally.idempotent_plan;
    v_n integer := coalesce(cardinality(p_user_ids), 0);
    r record;
    v_state text;
    v_message text;
    v_detail text;
    v_field text;
    v_hint text;
begin
    if p_idempotency_keys is not null then
        -- Keyed orders (see tally._idempotent_plan): placed by this function without keys,
        -- every order as it is when none is answered from its key (the usual case); the
        -- lines of the others keep their order, renumbered to the orders that remain.
        v_plan := tally._idempotent_plan(p_idempotency_scopes, p_idempotency_keys,
                      array(select 'shop.create_orders' || jsonb_build_array(p_user_ids[o.i], p_delivery_address_ids[o.i],
                                      coalesce(l.products, '{}'), coalesce(l.quantities, '{}'))::text
                              from generate_series(1, cardinality(p_user_ids)) o (i)
                              left join (select u.o, array_agg(u.p order by u.k) as products,
                                                array_agg(u.q order by u.k) as quantities
                                           from unnest(p_line_orders, p_product_ids, p_quantities) with ordinality u (o, p, q, k)
                                          group by u.o) l on l.o = o.i
                             order by o.i));
        if cardinality(v_plan.todo) = v_n then
            return query with done as materialized (select * from shop.create_orders(p_user_ids, p_delivery_address_ids, p_line_orders, p_product_ids, p_quantities))
                select d.* from done d, tally._idempotent_keep(v_plan, array(select to_jsonb(e) from done e order by e.ord)) k
                 order by d.ord;
        else
            return query select x.* from jsonb_to_recordset(tally._idempotent_finish(v_plan, array(
                    select to_jsonb(f)
                      from shop.create_orders(tally._pick(p_user_ids, v_plan.todo), tally._pick(p_delivery_address_ids, v_plan.todo),
                               array(select array_position(v_plan.todo, l.o) from unnest(p_line_orders) with ordinality l (o, k)
                                      where l.o = any (v_plan.todo) order by l.k),
                               array(select l.p from unnest(p_line_orders, p_product_ids) with ordinality l (o, p, k)
                                      where l.o = any (v_plan.todo) order by l.k),
                               array(select l.q from unnest(p_line_orders, p_quantities) with ordinality l (o, q, k)
                                      where l.o = any (v_plan.todo) order by l.k)) f)))
                as x (ord integer, id bigint, user_id bigint, delivery_address_id bigint, status shop.order_status, total_price numeric, created_at timestamptz, updated_at timestamptz, items jsonb, error_sqlstate text, error_reason text, error_message text, error_field text, error_hint text)
                 order by x.ord;
        end if;
        return;
    end if;
    if cardinality(p_user_ids) is distinct from cardinality(p_delivery_address_ids)
       or cardinality(p_line_orders) is distinct from cardinality(p_product_ids)
       or cardinality(p_line_orders) is distinct from cardinality(p_quantities) then
        perform tally.raise_error('TLIA1', 'BATCH_SHAPE_INVALID',
            'user_ids/delivery_address_ids and line_orders/product_ids/quantities must have the same lengths');
    end if;

    if v_n > 0
       and not exists (select 1
                         from shop._check_orders(p_user_ids, p_delivery_address_ids,
                                                 p_line_orders, p_product_ids, p_quantities) c
                        where c.error_sqlstate is not null) then
        begin
            return query
                select o.ord, o.id, o.user_id, o.delivery_address_id, o.status, o.total_price,
                       o.created_at, o.updated_at, o.items, null::text, null::text,
                       null::text, null::text, null::text
                  from shop._place_orders(p_user_ids, p_delivery_address_ids, p_line_orders,
                                          p_product_ids, p_quantities) o
                 order by o.ord;
            return;
        exception when sqlstate 'TL000' or data_exception or integrity_constraint_violation then
            null;  -- nothing of the batch is left: the orders go one by one below
        end;
    end if;

    -- One by one: lock every product of the batch first, in id order, so that concurrent
    -- batches queue instead of deadlocking on each other's orders. (All at once,
    -- shop._take_stock locked them the same way; its locks went with the undone attempt.)
    perform shop._lock_products(p_product_ids);
    for i in 1 .. v_n loop
        begin
            select * into r
              from shop.create_order(
                  p_user_ids[i], p_delivery_address_ids[i],
                  coalesce((select array_agg(l.product_id order by l.n)
                              from unnest(p_line_orders, p_product_ids) with ordinality l (o, product_id, n)
                             where l.o = i), '{}'::bigint[]),
                  coalesce((select array_agg(l.quantity order by l.n)
                              from unnest(p_line_orders, p_quantities) with ordinality l (o, quantity, n)
                             where l.o = i), '{}'::integer[]));
            return query select i, r.id, r.user_id, r.delivery_address_id, r.status, r.total_price,
                                r.created_at, r.updated_at, r.items, null::text, null::text,
                                null::text, null::text, null::text;
        exception when sqlstate 'TL000' or data_exception or integrity_constraint_violation then
            get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
                                    v_detail = pg_exception_detail, v_field = column_name,
                                    v_hint = pg_exception_hint;
            return query select i, null::bigint, p_user_ids[i], p_delivery_address_ids[i],
                                null::shop.order_status, null::numeric, null::timestamptz,
                                null::timestamptz, null::jsonb, v_state,
                                case when v_state like 'TL%' then v_detail end, v_message,
                                nullif(v_field, ''), nullif(v_hint, '');
        end;
    end loop;
end
$fn$;

grant execute on function shop.create_orders(bigint[], bigint[], integer[], bigint[], integer[], text[], text[]) to tally_app;
