-- create_orders places a batch all at once when every order is valid and the stock covers
-- the whole batch, else order by order. Either way every result is what shop.create_order
-- gives each order in turn: pg_temp.both_ways places a batch with create_orders, puts the
-- stock back, places the same orders one by one with create_order, and returns each
-- result both ways. pg_stat_xact_user_functions tells which path ran: all at once calls
-- no create_order and runs the statistics trigger once; order by order calls create_order
-- (and runs the trigger) once per placed order.
begin;
set local track_functions = 'pl';
select plan(43);

set local role tally_app;
create temp table u on commit drop as
    select n, c.id from generate_series(1, 3) n,
           lateral shop.create_user('tap_path' || n, 'tap.path' || n || '@example.com') c;
create temp table a on commit drop as
    select u.n, x.id from u, lateral shop.add_address(u.id, 'Main ' || u.n, 'City', '', '111', 'DE', true) x;
create temp table c on commit drop as
    select n, x.id from generate_series(1, 2) n, lateral shop.create_category('tap-path-cat' || n) x;
create temp table p on commit drop as
    select v.n, x.id
      from (values (1, '12.50', 10, 1), (2, '0.10', 5, 1), (3, '3.00', 4, 2), (4, '7.25', 100000, 2),
                   (5, '9999999999.99', 1000, 2), (6, '1.99', 100000, 1)) v (n, price, stock, cat),
           lateral shop.create_product('tap path p' || v.n, null, v.price, v.stock,
                                       (select c.id from c where c.n = v.cat)) x;
reset role;

-- The ids of the fixtures by number: pg_temp.uid(1), pg_temp.aid(1), pg_temp.pid(1).
create function pg_temp.uid(integer) returns bigint language sql stable
    as $$ select id from u where n = $1 $$;
create function pg_temp.aid(integer) returns bigint language sql stable
    as $$ select id from a where n = $1 $$;
create function pg_temp.pid(integer) returns bigint language sql stable
    as $$ select id from p where n = $1 $$;
create function pg_temp.calls(p_function text) returns bigint language sql stable as $$
    select coalesce((select f.calls from pg_stat_xact_user_functions f
                      where f.schemaname = 'shop' and f.funcname = p_function), 0) $$;

-- The reference: shop.create_order once per order, in input order, each in a
-- subtransaction of its own, with create_orders' outcome columns.
create function pg_temp.one_by_one(p_users bigint[], p_addresses bigint[], p_line_orders integer[],
                                   p_products bigint[], p_quantities integer[])
returns table (ord integer, id bigint, user_id bigint, delivery_address_id bigint,
               status shop.order_status, total_price numeric, created_at timestamptz,
               updated_at timestamptz, items jsonb, error_sqlstate text, error_reason text,
               error_message text, error_field text, error_hint text)
language plpgsql as $$
declare
    i integer;
    r record;
    v_state text; v_message text; v_detail text; v_field text; v_hint text;
begin
    for i in 1 .. coalesce(cardinality(p_users), 0) loop
        begin
            select * into r from shop.create_order(p_users[i], p_addresses[i],
                coalesce((select array_agg(l.product_id order by l.n)
                            from unnest(p_line_orders, p_products) with ordinality l (o, product_id, n)
                           where l.o = i), '{}'),
                coalesce((select array_agg(l.quantity order by l.n)
                            from unnest(p_line_orders, p_quantities) with ordinality l (o, quantity, n)
                           where l.o = i), '{}'));
            return query select i, r.id, r.user_id, r.delivery_address_id, r.status, r.total_price,
                                r.created_at, r.updated_at, r.items, null::text, null::text,
                                null::text, null::text, null::text;
        exception when others then
            get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
                                    v_detail = pg_exception_detail, v_field = column_name,
                                    v_hint = pg_exception_hint;
            return query select i, null::bigint, p_users[i], p_addresses[i], null::shop.order_status,
                                null::numeric, null::timestamptz, null::timestamptz, null::jsonb,
                                v_state, case when v_state like 'TL%' then v_detail end, v_message,
                                nullif(v_field, ''), nullif(v_hint, '');
        end;
    end loop;
end $$;

-- What a placement left behind, for the products of the batch and the orders it returned.
create function pg_temp.placed(p_products bigint[], p_order_ids bigint[])
returns table (what text, result jsonb) language sql stable as $$
    select 'orders (status, total, user, address, created_at, updated_at)',
           coalesce(jsonb_agg(jsonb_build_array(k.ord, o.status, o.total_price, o.user_id,
                                                o.delivery_address_id, o.created_at, o.updated_at)
                              order by k.ord), '[]')
      from unnest(p_order_ids) with ordinality k (id, ord) join shop.orders o on o.id = k.id
    union all
    select 'lines (product, quantity, price_at_order, category, order_day)',
           coalesce(jsonb_agg(jsonb_build_array(k.ord, i.product_id, i.quantity, i.price_at_order,
                                                i.category_id, i.order_day)
                              order by k.ord, i.product_id), '[]')
      from unnest(p_order_ids) with ordinality k (id, ord) join shop.order_items i on i.order_id = k.id
    union all
    select 'stock', coalesce(jsonb_object_agg(x.id, x.stock_quantity), '{}')
      from shop.products x where x.id = any (p_products)
$$;

-- Statistics of the fixture categories: the view, and the lines' GROUP BY recomputation.
create function pg_temp.statistics() returns table (category_id bigint, report_date date,
                                                   items_sold bigint, orders_count bigint)
language sql stable as $$
    select s.category_id, s.report_date, s.items_sold, s.orders_count from shop.statistics s
     where s.category_id in (select id from c)
$$;
create function pg_temp.recomputed() returns table (category_id bigint, report_date date,
                                                    items_sold bigint, orders_count bigint)
language sql stable as $$
    select i.category_id, i.order_day, sum(i.quantity)::bigint, count(distinct i.order_id)
      from shop.order_items i where i.category_id in (select id from c) group by 1, 2
$$;
create function pg_temp.statistics_now() returns jsonb language sql stable as $$
    select coalesce(jsonb_object_agg(s.category_id || ' ' || s.report_date,
                                     jsonb_build_array(s.items_sold, s.orders_count)), '{}')
      from pg_temp.statistics() s
$$;
-- What the statistics gained since p_before (a statistics_now()), per category and day.
create function pg_temp.statistics_gained(p_before jsonb) returns jsonb language sql stable as $$
    select coalesce(jsonb_object_agg(n.key, jsonb_build_array(
               (n.value->>0)::bigint - coalesce((p_before->n.key->>0)::bigint, 0),
               (n.value->>1)::bigint - coalesce((p_before->n.key->>1)::bigint, 0))), '{}')
      from jsonb_each(pg_temp.statistics_now()) n
     where n.value is distinct from p_before->n.key
$$;

create function pg_temp.both_ways(p_users bigint[], p_addresses bigint[], p_line_orders integer[],
                                  p_products bigint[], p_quantities integer[])
returns table (what text, via_batch jsonb, one_by_one jsonb)
language plpgsql as $$
declare
    v_stock jsonb;
    v_result jsonb[];
    v_before jsonb;
    v_calls bigint;
    v_runs bigint;
    v_out jsonb;
    v_ids bigint[];
    k integer;
begin
    select coalesce(jsonb_object_agg(x.id, x.stock_quantity), '{}') into v_stock
      from shop.products x where x.id = any (p_products);
    for k in 1 .. 2 loop
        if k = 2 then
            -- the stock back as it was; the first placement's orders stay (told apart by id)
            update shop.products x set stock_quantity = (v_stock->>x.id::text)::integer
             where x.id = any (p_products);
        end if;
        v_before := pg_temp.statistics_now();
        v_calls := pg_temp.calls('create_order');
        v_runs := pg_temp.calls('tg_order_items__statistics');
        set local role tally_app;
        execute format($q$
            select jsonb_agg(to_jsonb(t) - 'id' order by t.ord),
                   coalesce(array_agg(t.id order by t.ord) filter (where t.id is not null), '{}')
              from %s($1, $2, $3, $4, $5) t$q$,
            case k when 1 then 'shop.create_orders' else 'pg_temp.one_by_one' end)
          into v_out, v_ids
          using p_users, p_addresses, p_line_orders, p_products, p_quantities;
        reset role;
        v_result[k] := jsonb_build_object(
                'outcomes (all but the order id)', v_out,
                'ids ascend in input order', v_ids = array(select distinct x from unnest(v_ids) x order by x),
                'create_order calls', pg_temp.calls('create_order') - v_calls,
                'statistics trigger runs', pg_temp.calls('tg_order_items__statistics') - v_runs,
                'statistics gained', pg_temp.statistics_gained(v_before))
            || (select jsonb_object_agg(x.what, x.result) from pg_temp.placed(p_products, v_ids) x);
    end loop;
    return query select w, v_result[1]->w, v_result[2]->w from jsonb_object_keys(v_result[1]) w;
end $$;


-- All at once: every order valid, the stock covers the batch (products 2 and 3 exactly).
-- Order 1 repeats product 2 (merged); the lines come interleaved; lines of "order" 0 and 5
-- belong to no order of the four.
create temp table fast on commit drop as
select * from pg_temp.both_ways(
    array[pg_temp.uid(1), pg_temp.uid(2), pg_temp.uid(1), pg_temp.uid(3)],
    array[pg_temp.aid(1), pg_temp.aid(2), pg_temp.aid(1), pg_temp.aid(3)],
    array[1, 3, 1, 2, 1, 3, 4, 5, 0],
    array[pg_temp.pid(2), pg_temp.pid(1), pg_temp.pid(1), pg_temp.pid(3), pg_temp.pid(2),
          pg_temp.pid(4), pg_temp.pid(2), pg_temp.pid(1), pg_temp.pid(1)],
    array[1, 3, 2, 4, 1, 1, 3, 7, 7]);
select is(via_batch, one_by_one, 'all at once, as one by one: ' || what)
  from fast where what not in ('create_order calls', 'statistics trigger runs') order by what;
select is(via_batch, '0', 'all at once: no create_order call') from fast where what = 'create_order calls';
select is(via_batch, '1', 'all at once: the statistics trigger runs once for the batch')
  from fast where what = 'statistics trigger runs';
select is((select count(*) from fast, jsonb_array_elements(via_batch) o
            where what = 'outcomes (all but the order id)' and o->>'error_sqlstate' is null),
          4::bigint, 'all at once: every order placed');
select is(via_batch,
          jsonb_build_object((select id from c where n = 1) || ' ' || (now() at time zone 'UTC')::date, '[10, 3]'::jsonb,
                             (select id from c where n = 2) || ' ' || (now() at time zone 'UTC')::date, '[5, 2]'::jsonb),
          'all at once: statistics count items and distinct orders per category')
  from fast where what = 'statistics gained';

-- 64 random orders of 1 to 3 lines, the lines shuffled.
do $$ begin perform setseed(0.25); end $$;
create temp table rnd_orders on commit drop as
    select g as o, 1 + floor(random() * 3)::int as buyer, 1 + floor(random() * 3)::int as lines
      from generate_series(1, 64) g;
create temp table rnd_lines on commit drop as
    select r.o, case when random() < 0.5 then 4 else 6 end as product, 1 + floor(random() * 5)::int as q,
           random() as shuffle
      from rnd_orders r, generate_series(1, r.lines);
create temp table rnd on commit drop as
select * from pg_temp.both_ways(
    (select array_agg(pg_temp.uid(buyer) order by o) from rnd_orders),
    (select array_agg(pg_temp.aid(buyer) order by o) from rnd_orders),
    (select array_agg(o order by shuffle) from rnd_lines),
    (select array_agg(pg_temp.pid(product) order by shuffle) from rnd_lines),
    (select array_agg(q order by shuffle) from rnd_lines));
select ok(bool_and(via_batch = one_by_one), '64 random orders all at once, as one by one')
  from rnd where what not in ('create_order calls', 'statistics trigger runs');
select ok((select via_batch from rnd where what = 'create_order calls') = '0'
          and (select via_batch from rnd where what = 'statistics trigger runs') = '1'
          and (select one_by_one from rnd where what = 'create_order calls') = '64',
          '64 random orders: all at once');

-- 100 lines is still an order that can go all at once.
create temp table hundred on commit drop as
select * from pg_temp.both_ways(
    array[pg_temp.uid(1), pg_temp.uid(2)], array[pg_temp.aid(1), pg_temp.aid(2)],
    array_fill(1, array[100]) || 2, array_fill(pg_temp.pid(4), array[101]), array_fill(1, array[101]));
select ok(bool_and(via_batch = one_by_one) filter (where what not in ('create_order calls', 'statistics trigger runs'))
          and bool_and(via_batch = '0') filter (where what = 'create_order calls'),
          'an order of 100 lines: all at once, as one by one')
  from hundred;

-- A shortfall: each order fits alone, the three together do not (product 1 has 5 left;
-- product 4 plenty). Order by order, as create_order alone would: the first takes 3 of
-- product 1, the second is short, the third still fits.
create temp table short on commit drop as
select * from pg_temp.both_ways(
    array[pg_temp.uid(1), pg_temp.uid(2), pg_temp.uid(3)], array[pg_temp.aid(1), pg_temp.aid(2), pg_temp.aid(3)],
    array[1, 2, 3, 3, 2, 1],
    array[pg_temp.pid(1), pg_temp.pid(1), pg_temp.pid(4), pg_temp.pid(1), pg_temp.pid(4), pg_temp.pid(4)],
    array[3, 3, 2, 1, 1, 1]);
select is(via_batch, one_by_one, 'a shortfall, order by order: ' || what) from short order by what;
select is((select jsonb_agg(jsonb_build_array(o->>'error_reason',
                                              (o->>'error_hint')::jsonb->'precondition_failure'->0->'available'))
             from short, jsonb_array_elements(via_batch) o where what = 'outcomes (all but the order id)'),
          '[[null, null], ["INSUFFICIENT_STOCK", 2], [null, null]]'::jsonb,
          'a shortfall: the second order is short after the first took its stock');

-- An invalid order among valid ones (order 2 of 3): order by order, each with its outcome.
create temp table invalid (label text, users bigint[], addresses bigint[], line_orders integer[],
                           products bigint[], quantities integer[]) on commit drop;
insert into invalid
select v.label, coalesce(v.users, array[pg_temp.uid(1), pg_temp.uid(1), pg_temp.uid(2)]),
       coalesce(v.addresses, array[pg_temp.aid(1), pg_temp.aid(1), pg_temp.aid(2)]),
       coalesce(v.line_orders, array[1, 2, 3]),
       coalesce(v.products, array[pg_temp.pid(4), pg_temp.pid(4), pg_temp.pid(4)]),
       coalesce(v.quantities, array[1, 1, 2])
  from (values
    ('another user''s address', null, array[pg_temp.aid(1), pg_temp.aid(2), pg_temp.aid(2)], null, null, null),
    ('unknown user', array[pg_temp.uid(1), 9223372036854775807, pg_temp.uid(2)], null, null, null, null),
    ('user id 0', array[pg_temp.uid(1), 0, pg_temp.uid(2)], null, null, null, null),
    ('user id null', array[pg_temp.uid(1), null, pg_temp.uid(2)], null, null, null, null),
    ('address id 0', null, array[pg_temp.aid(1), 0, pg_temp.aid(2)], null, null, null),
    ('unknown address', null, array[pg_temp.aid(1), 9223372036854775807, pg_temp.aid(2)], null, null, null),
    ('no lines', null, null, array[1, 3], array[pg_temp.pid(4), pg_temp.pid(4)], array[1, 2]),
    ('101 lines', null, null, array[1] || array_fill(2, array[101]) || 3,
     array_fill(pg_temp.pid(4), array[103]), array_fill(1, array[103])),
    ('product id 0', null, null, null, array[pg_temp.pid(4), 0, pg_temp.pid(4)], null),
    ('product id null', null, null, null, array[pg_temp.pid(4), null, pg_temp.pid(4)], null),
    ('unknown product', null, null, array[1, 2, 2, 3],
     array[pg_temp.pid(4), pg_temp.pid(4), 9223372036854775807, pg_temp.pid(4)], array[1, 1, 1, 2]),
    ('quantity 0', null, null, null, null, array[1, 0, 2]),
    ('quantity -1', null, null, null, null, array[1, -1, 2]),
    ('quantity null', null, null, null, null, array[1, null, 2]),
    ('merged quantity beyond integer', null, null, array[1, 2, 2, 3],
     array[pg_temp.pid(4), pg_temp.pid(4), pg_temp.pid(4), pg_temp.pid(4)], array[1, 2147483647, 1, 2]),
    ('total beyond numeric(14,2)', null, null, null, array[pg_temp.pid(4), pg_temp.pid(5), pg_temp.pid(4)],
     array[1, 1000, 2]),
    ('short alone', null, null, array[1, 2, 2, 3],
     array[pg_temp.pid(4), pg_temp.pid(4), pg_temp.pid(3), pg_temp.pid(4)], array[1, 1, 1, 2])
  ) v (label, users, addresses, line_orders, products, quantities);
create temp table invalid_results on commit drop as
    select i.label, b.* from invalid i, lateral pg_temp.both_ways(i.users, i.addresses, i.line_orders,
                                                                   i.products, i.quantities) b;
select ok(bool_and(via_batch = one_by_one)
          and bool_and(via_batch <> '0') filter (where what = 'create_order calls'),
          'an invalid order among valid ones (' || label || '): order by order, as one by one')
  from invalid_results group by label order by label;
select is((select jsonb_agg(jsonb_build_array(o->>'error_sqlstate', o->>'error_reason'))
             from invalid_results, jsonb_array_elements(via_batch) o
            where label = 'another user''s address' and what = 'outcomes (all but the order id)'),
          '[[null, null], ["TLNF1", "ADDRESS_NOT_FOUND"], [null, null]]'::jsonb,
          'an invalid order among valid ones: its own error, the others placed');
select is((select jsonb_agg(o->>'error_sqlstate')
             from invalid_results, jsonb_array_elements(via_batch) o
            where label = 'total beyond numeric(14,2)' and what = 'outcomes (all but the order id)'),
          '[null, "TLIA1", null]'::jsonb,
          'an order whose total overflows fails alone, after the batch was tried all at once');
select is((select jsonb_agg(jsonb_build_array(o->>'error_reason', o->>'error_field'))
             from invalid_results, jsonb_array_elements(via_batch) o
            where label = 'total beyond numeric(14,2)' and what = 'outcomes (all but the order id)'
              and o->>'error_sqlstate' is not null),
          '[["TOTAL_TOO_LARGE", "items"]]'::jsonb,
          'an overflowing total is TOTAL_TOO_LARGE naming items');

select results_eq('select * from pg_temp.statistics() order by 1, 2',
                  'select * from pg_temp.recomputed() order by 1, 2',
                  'statistics equal the GROUP BY recomputation over the lines');

select * from finish();
rollback;
