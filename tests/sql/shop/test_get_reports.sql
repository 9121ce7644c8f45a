-- get_reports: the report rows of a day, by order id.
begin;
select plan(3);

create temp table ids on commit drop as
with u as (insert into shop.users (username, email) values ('tap_rep', 'tap.rep@example.com') returning id),
     a as (insert into shop.addresses (user_id, street, city, state, zip_code, country)
           select id, 'S', 'C', '', '1', 'DE' from u returning id, user_id),
     c as (insert into shop.categories (name) values ('tap-rep') returning id),
     p as (insert into shop.products (name, price, stock_quantity, category_id)
           select 'tap rep p', 1.00, 10, id from c returning id, category_id)
select (select id from a) as address_id, (select user_id from a) as user_id,
       (select id from p) as product_id, (select category_id from p) as category_id;
create temp table ord on commit drop as
with o as (
    insert into shop.orders (user_id, delivery_address_id, total_price, created_at)
    select user_id, address_id, 1, t from ids,
           unnest(array['1999-03-01 00:00:00+00', '1999-03-01 23:59:59+00',
                        '1999-03-02 00:00:00+00']::timestamptz[]) t
    returning id, created_at)
select * from o;
insert into shop.order_items (order_id, product_id, quantity, price_at_order, category_id, order_day)
select o.id, product_id, 2 + row_number() over (order by o.id), 1.00, category_id, (o.created_at at time zone 'UTC')::date
  from ord o, ids;
create temp table before on commit drop as select coalesce(max(id), 0) as max_id from shop.report_outbox;

grant select on ord, before to tally_app, tally_jobs;
do $$ begin perform shop.generate_daily_reports('1999-03-01'); end $$;
set local role tally_app;
select results_eq($$select order_id, count_product from shop.get_reports('1999-03-01')$$,
    $$select id, (2 + row_number() over (order by id))::int from ord
       where created_at < '1999-03-02 00:00:00+00' order by id$$,
    'one report per order of the UTC day, count_product = the sum of its quantities');
reset role;
do $$ begin perform shop.generate_daily_reports('1999-03-01'); end $$;
set local role tally_app;
select is((select count(*) from shop.get_reports('1999-03-01')), 2::bigint, 'still two reports');
select throws_ok($$select shop.get_reports(null)$$, 'TLIA1', 'report_date is required', 'null date');

select * from finish();
rollback;
