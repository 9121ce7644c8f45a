-- The statistics trigger against the seed 000 data: 3 categories, 5 products, 8 orders
-- on 2025-08-01/02 -> exactly the 6 rows of ORIGINALS.md. Rows are written as the
-- original did (one order line per order, inserted one statement each), then again as one
-- bulk statement, which the statement-level trigger must count the same way.
begin;
select plan(4);

create temp table ids on commit drop as
with u as (insert into shop.users (username, email) values ('tap_seed', 'tap.seed@example.com') returning id),
     a as (insert into shop.addresses (user_id, street, city, state, zip_code, country)
           select id, 'S', 'C', '', '1', 'DE' from u returning id, user_id),
     c as (insert into shop.categories (name) values ('tap-seed-1'), ('tap-seed-2'), ('tap-seed-3') returning id, name)
select (select id from a) as address_id, (select user_id from a) as user_id,
       (select id from c where name = 'tap-seed-1') as c1, (select id from c where name = 'tap-seed-2') as c2,
       (select id from c where name = 'tap-seed-3') as c3;
create temp table prod on commit drop as
with p as (
    insert into shop.products (name, price, stock_quantity, category_id)
    select 'tap seed p' || n, 1.00, 100, case when n <= 2 then c1 when n <= 4 then c2 else c3 end
      from ids, generate_series(1, 5) n
    returning id, name, category_id)
select id, substr(name, 11)::int as n, category_id from p;
create temp table seed (n int, product int, quantity int, day date) on commit drop;
insert into seed values
    (1, 1, 2, '2025-08-01'), (2, 2, 1, '2025-08-01'), (3, 1, 3, '2025-08-02'),
    (4, 3, 1, '2025-08-01'), (5, 4, 2, '2025-08-02'), (6, 5, 1, '2025-08-01'),
    (7, 5, 1, '2025-08-02'), (8, 5, 2, '2025-08-02');
create temp table ord on commit drop as
with o as (
    insert into shop.orders (user_id, delivery_address_id, total_price, created_at)
    select user_id, address_id, s.quantity, s.day from ids, seed s order by s.n
    returning id, created_at)
select id, row_number() over (order by id) as n from o;

do $$
declare r record;
begin
    for r in select o.id, p.id as product_id, s.quantity, p.category_id, s.day
               from seed s join ord o on o.n = s.n join prod p on p.n = s.product order by s.n
    loop
        insert into shop.order_items (order_id, product_id, quantity, price_at_order, category_id, order_day)
        values (r.id, r.product_id, r.quantity, 1.00, r.category_id, r.day);
    end loop;
end $$;

select results_eq(
    $$select category_id, report_date, items_sold, orders_count from shop.statistics
       where category_id in (select c1 from ids union all select c2 from ids union all select c3 from ids)
       order by 1, 2$$,
    $$select c, d::date, i::bigint, o::bigint from ids, (values
        (1, '2025-08-01', 3, 2), (1, '2025-08-02', 3, 1),
        (2, '2025-08-01', 1, 1), (2, '2025-08-02', 2, 1),
        (3, '2025-08-01', 1, 1), (3, '2025-08-02', 3, 2)) e (k, d, i, o),
        lateral (select case k when 1 then c1 when 2 then c2 else c3 end) x (c)
       order by 1, 2$$,
    'row by row: exactly the 6 rows of seed 000');

-- The same data once more, as one bulk statement: every figure doubles.
create temp table ord2 on commit drop as
with o as (
    insert into shop.orders (user_id, delivery_address_id, total_price, created_at)
    select user_id, address_id, s.quantity, s.day from ids, seed s order by s.n
    returning id)
select id, row_number() over (order by id) as n from o;
insert into shop.order_items (order_id, product_id, quantity, price_at_order, category_id, order_day)
select o.id, p.id, s.quantity, 1.00, p.category_id, s.day
  from seed s join ord2 o on o.n = s.n join prod p on p.n = s.product;

select results_eq(
    $$select category_id, report_date, items_sold, orders_count from shop.statistics
       where category_id in (select c1 from ids union all select c2 from ids union all select c3 from ids)
       order by 1, 2$$,
    $$select c, d::date, 2 * i::bigint, 2 * o::bigint from ids, (values
        (1, '2025-08-01', 3, 2), (1, '2025-08-02', 3, 1),
        (2, '2025-08-01', 1, 1), (2, '2025-08-02', 2, 1),
        (3, '2025-08-01', 1, 1), (3, '2025-08-02', 3, 2)) e (k, d, i, o),
        lateral (select case k when 1 then c1 when 2 then c2 else c3 end) x (c)
       order by 1, 2$$,
    'one bulk statement counts the same');

-- An order with two products of one category counts once in orders_count.
create temp table ord3 on commit drop as
with o as (
    insert into shop.orders (user_id, delivery_address_id, total_price, created_at)
    select user_id, address_id, 2, '2025-08-03' from ids returning id)
select * from o;
insert into shop.order_items (order_id, product_id, quantity, price_at_order, category_id, order_day)
select (select id from ord3), p.id, 1, 1.00, p.category_id, '2025-08-03' from prod p where p.n in (1, 2);
select results_eq(
    $$select items_sold, orders_count from shop.statistics
       where category_id = (select c1 from ids) and report_date = '2025-08-03'$$,
    $$values (2::bigint, 1::bigint)$$, 'orders_count counts orders, not lines');
select results_eq(
    $$select * from shop.get_sales_statistics((select c3 from ids), '2025-08-02', '2025-08-02')$$,
    $$select c3, '2025-08-02'::date, 6::bigint, 4::bigint from ids$$, 'get_sales_statistics');

select * from finish();
rollback;
