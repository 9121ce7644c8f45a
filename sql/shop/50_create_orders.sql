-- create_orders(user_ids[], delivery_address_ids[], line_orders[], product_ids[], quantities[]):
-- many orders in one statement (the gRPC server groups concurrent CreateOrder calls here,
-- so they share one commit). Order i has the lines whose line_orders entry is i (1-based).
-- Each order is placed by shop.create_order in a subtransaction of its own and gets an
-- outcome row (in input order): the order, or the error it raised (sqlstate, reason,
-- message, field, hint) - one failing order never undoes the others.
-- Every product of the batch is locked in id order first, so concurrent batches queue
-- instead of deadlocking. TLIA1 BATCH_SHAPE_INVALID (arrays of different lengths).
create function shop.create_orders(p_user_ids bigint[], p_delivery_address_ids bigint[],
                                   p_line_orders integer[], p_product_ids bigint[],
                                   p_quantities integer[])
returns table (ord integer, id bigint, user_id bigint, delivery_address_id bigint,
               status shop.order_status, total_price numeric, created_at timestamptz,
               updated_at timestamptz, items jsonb, error_sqlstate text, error_reason text,
               error_message text, error_field text, error_hint text)
language plpgsql
security definer
set search_path = shop, pg_temp
as $fn$
declare
    i integer;
    r record;
    v_state text;
    v_message text;
    v_detail text;
    v_field text;
    v_hint text;
begin
    if cardinality(p_user_ids) is distinct from cardinality(p_delivery_address_ids)
       or cardinality(p_line_orders) is distinct from cardinality(p_product_ids)
       or cardinality(p_line_orders) is distinct from cardinality(p_quantities) then
        perform tally.raise_error('TLIA1', 'BATCH_SHAPE_INVALID',
            'user_ids/delivery_address_ids and line_orders/product_ids/quantities must have the same lengths');
    end if;

    perform 1 from shop.products p where p.id = any (p_product_ids) order by p.id for no key update;

    for i in 1 .. coalesce(cardinality(p_user_ids), 0) loop
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
        exception when others then
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

grant execute on function shop.create_orders(bigint[], bigint[], integer[], bigint[], integer[]) to tally_app;
