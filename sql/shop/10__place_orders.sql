-- _place_orders(user_ids[], delivery_address_ids[], line_orders[], product_ids[], quantities[]):
-- places orders that shop._check_orders passed (the arrays as shop.create_orders takes
-- them), all or nothing, in a few statements whatever their number: repeated products of
-- an order are merged into one line; shop._take_stock takes the stock of all of them
-- (raising if a product is missing or short); totals are computed (a total of
-- 10^12 or more, past orders.total_price's numeric(14,2), raises TLIA1 TOTAL_TOO_LARGE
-- naming items, before any order id is drawn); one INSERT writes the
-- orders, their ids drawn from the orders' sequence first and handed out ascending in
-- input order, as placing them one at a time would; one INSERT writes every line (with
-- the product's price and category and the order's UTC day), so the statistics trigger
-- runs once. Returns each order as the API does, in input order.
create function shop._place_orders(p_user_ids bigint[], p_delivery_address_ids bigint[],
                                   p_line_orders integer[], p_product_ids bigint[],
                                   p_quantities integer[])
returns table (ord integer, id bigint, user_id bigint, delivery_address_id bigint,
               status shop.order_status, total_price numeric, created_at timestamptz,
               updated_at timestamptz, items jsonb)
language plpgsql
as $fn$
declare
    v_n integer := coalesce(cardinality(p_user_ids), 0);
    -- the lines merged per (order, product), sorted by order, then product
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
begin
    select array_agg(m.o order by m.o, m.product_id),
           array_agg(m.product_id order by m.o, m.product_id),
           array_agg(m.q order by m.o, m.product_id)
      into v_line_ords, v_line_products, v_line_qty
      from (select l.o, l.product_id, sum(l.quantity) as q
              from unnest(p_line_orders, p_product_ids, p_quantities) l (o, product_id, quantity)
             where l.o between 1 and v_n
             group by l.o, l.product_id) m;

    select t.product_ids, t.prices, t.category_ids
      into v_product_ids, v_prices, v_categories
      from shop._take_stock(v_line_products, v_line_qty) t;

    select array_agg(s.total order by s.o)
      into v_totals
      from (select l.o, sum(p.price * l.q) as total
              from unnest(v_line_ords, v_line_products, v_line_qty) l (o, product_id, q)
              join unnest(v_product_ids, v_prices) p (id, price) on p.id = l.product_id
             group by l.o) s;

    if exists (select 1 from unnest(v_totals) t where t >= 1e12) then
        perform tally.raise_error('TLIA1', 'TOTAL_TOO_LARGE',
            'an order total must be below 1000000000000.00', 'items');
    end if;

    -- RETURNING's row order does not matter: the ids are matched to orders by rank.
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

    return query
        select g.o, v_order_ids[g.o], p_user_ids[g.o], p_delivery_address_ids[g.o],
               v_statuses[g.o], v_totals[g.o], v_created[g.o], v_updated[g.o], g.items
          from (select l.o,
                       jsonb_agg(shop._item_json(l.product_id, l.q, p.price)
                                 order by l.product_id) as items
                  from unnest(v_line_ords, v_line_products, v_line_qty) l (o, product_id, q)
                  join unnest(v_product_ids, v_prices) p (id, price) on p.id = l.product_id
                 group by l.o) g
         order by g.o;
end
$fn$;
