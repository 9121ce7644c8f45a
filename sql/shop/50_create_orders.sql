-- create_orders(user_ids[], delivery_address_ids[], line_orders[], product_ids[], quantities[]):
-- many orders in one statement (the gRPC server groups concurrent CreateOrder calls here,
-- so they share one commit). Order i has the lines whose line_orders entry is i (1-based;
-- lines with any other entry belong to no order). Every order gets an outcome row, in
-- input order: the order, or the error it raised (sqlstate, reason, message, field, hint)
-- - one failing order never undoes the others. The outcome is always what
-- shop.create_order would give each order, called once per order in input order.
-- Every product of the batch is locked in id order first, so concurrent batches queue
-- instead of deadlocking. Then:
--   - all at once, when every order is valid (ids positive, 1-100 lines, quantities >= 1,
--     the address is the user's, every product exists) and the stock of every product
--     covers the whole batch: one UPDATE of the stock, one INSERT of the orders (ids
--     drawn from the orders' sequence first, ascending in input order), one INSERT of
--     all lines (the statistics trigger runs once), in one subtransaction;
--   - otherwise (an invalid order, a missing product, a shortfall, or any error placing
--     them at once, which is undone), one by one: shop.create_order in a subtransaction
--     per order, earlier orders taking stock first.
-- Plans are generic (plan_cache_mode): the statements take arrays whose sizes vary from
-- call to call, and planning them anew for every call cost more than running them.
-- TLIA1 BATCH_SHAPE_INVALID (arrays of different lengths).
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
set plan_cache_mode = force_generic_plan
as $fn$
declare
    v_n integer := coalesce(cardinality(p_user_ids), 0);
    v_placed boolean := false;
    -- the batch's lines merged per (order, product), sorted by order, then product
    v_line_ords integer[];
    v_line_products bigint[];
    v_line_qty bigint[];
    -- the products taken from, sorted by id, with what the lines copy
    v_product_ids bigint[];
    v_prices numeric[];
    v_categories bigint[];
    -- per order, by input position
    v_totals numeric[];
    v_order_ids bigint[];
    v_statuses shop.order_status[];
    v_created timestamptz[];
    v_updated timestamptz[];
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

    -- All at once? First what the arrays alone tell: every order has positive ids and
    -- 1 to 100 lines, every line a positive product id and a quantity of 1 or more.
    if v_n > 0
       and not exists (select 1 from unnest(p_user_ids, p_delivery_address_ids) b (user_id, address_id)
                        where b.user_id is null or b.user_id < 1
                           or b.address_id is null or b.address_id < 1)
       and not exists (select 1 from unnest(p_line_orders, p_product_ids, p_quantities) l (o, product_id, quantity)
                        where l.o between 1 and v_n
                          and not coalesce(l.product_id >= 1 and l.quantity >= 1, false))
       and (select count(*) = v_n and max(c.lines) <= 100
              from (select l.o, count(*) as lines from unnest(p_line_orders) l (o)
                     where l.o between 1 and v_n group by l.o) c) then
        select array_agg(m.o order by m.o, m.product_id),
               array_agg(m.product_id order by m.o, m.product_id),
               array_agg(m.q order by m.o, m.product_id)
          into v_line_ords, v_line_products, v_line_qty
          from (select l.o, l.product_id, sum(l.quantity) as q
                  from unnest(p_line_orders, p_product_ids, p_quantities) l (o, product_id, quantity)
                 where l.o between 1 and v_n
                 group by l.o, l.product_id) m;
        -- Then merged quantities that fit a line, and addresses that are their users'.
        if not exists (select 1 from unnest(v_line_qty) q where q > 2147483647)
           and (select count(*) from unnest(p_user_ids, p_delivery_address_ids) b (user_id, address_id)
                  join shop.addresses a on a.id = b.address_id and a.user_id = b.user_id) = v_n then
            begin
                -- One conditional UPDATE takes the whole batch's need of each product; a
                -- product missing or short means the batch does not fit.
                with taken as (
                    update shop.products p
                       set stock_quantity = p.stock_quantity - t.q
                      from (select x.product_id, sum(x.q) as q
                              from unnest(v_line_products, v_line_qty) x (product_id, q)
                             group by x.product_id) t
                     where p.id = t.product_id and p.stock_quantity >= t.q
                    returning p.id, p.price, p.category_id)
                select array_agg(t.id order by t.id), array_agg(t.price order by t.id),
                       array_agg(t.category_id order by t.id)
                  into v_product_ids, v_prices, v_categories
                  from taken t;
                if coalesce(cardinality(v_product_ids), 0)
                   < (select count(distinct x) from unnest(v_line_products) x) then
                    raise exception 'the batch does not fit the stock';  -- undoes the UPDATE
                end if;

                -- Totals as the orders table stores them (an overflow raises here, before
                -- any order id is drawn).
                select array_agg(s.total::numeric(14,2) order by s.o)
                  into v_totals
                  from (select l.o, sum(p.price * l.q) as total
                          from unnest(v_line_ords, v_line_products, v_line_qty) l (o, product_id, q)
                          join unnest(v_product_ids, v_prices) p (id, price) on p.id = l.product_id
                         group by l.o) s;

                -- Ids are drawn first and handed out in ascending order to the orders in
                -- input order, as placing them one by one would; RETURNING's row order
                -- does not matter.
                with drawn as (
                    select nextval('shop.orders_id_seq'::regclass) as id
                      from generate_series(1, v_n)),
                numbered as (
                    select (row_number() over (order by d.id))::integer as o, d.id from drawn d),
                placed as (
                    insert into shop.orders as o (id, user_id, delivery_address_id, total_price)
                    overriding system value
                    select n.id, p_user_ids[n.o], p_delivery_address_ids[n.o], v_totals[n.o]
                      from numbered n
                    returning o.id, o.status, o.created_at, o.updated_at)
                select array_agg(x.id order by x.id), array_agg(x.status order by x.id),
                       array_agg(x.created_at order by x.id), array_agg(x.updated_at order by x.id)
                  into v_order_ids, v_statuses, v_created, v_updated
                  from placed x;

                insert into shop.order_items (order_id, product_id, quantity, price_at_order,
                                              category_id, order_day)
                select v_order_ids[l.o], l.product_id, l.q, p.price, p.category_id,
                       (v_created[l.o] at time zone 'UTC')::date
                  from unnest(v_line_ords, v_line_products, v_line_qty) l (o, product_id, q)
                  join unnest(v_product_ids, v_prices, v_categories) p (id, price, category_id)
                    on p.id = l.product_id;
                v_placed := true;
            exception when others then
                -- Everything above is undone; the orders are placed one by one below,
                -- each getting its own outcome.
                v_placed := false;
            end;
        end if;
    end if;

    if v_placed then
        return query
            select g.o, v_order_ids[g.o], p_user_ids[g.o], p_delivery_address_ids[g.o],
                   v_statuses[g.o], v_totals[g.o], v_created[g.o], v_updated[g.o], g.items,
                   null::text, null::text, null::text, null::text, null::text
              from (select l.o,
                           jsonb_agg(jsonb_build_object('product_id', l.product_id, 'quantity', l.q,
                                                        'price_at_order', p.price::text)
                                     order by l.product_id) as items
                      from unnest(v_line_ords, v_line_products, v_line_qty) l (o, product_id, q)
                      join unnest(v_product_ids, v_prices) p (id, price) on p.id = l.product_id
                     group by l.o) g
             order by g.o;
        return;
    end if;

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
