-- report_summaries_after: the outbox after an id, in id order (what WatchReports replays).
begin;
select plan(5);

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
do $$ begin perform shop.generate_daily_reports('1999-03-01');
           perform shop.generate_daily_reports('1999-02-28'); end $$;
set local role tally_app;
select results_eq($$select report_date, reports_count from shop.report_summaries_after((select max_id from before))$$,
    $$values ('1999-03-01'::date, 2), ('1999-02-28'::date, 0)$$, 'the outbox, in id order');
select is((select jsonb_array_length(reports) from shop.report_summaries_after((select max_id from before)) limit 1),
    2, 'the summary holds the reports');
-- Resume after the first new summary (ids need not follow max_id: a rolled-back
-- transaction may have drawn some).
select results_eq($$select report_date from shop.report_summaries_after(
                        (select min(id) from shop.report_summaries_after((select max_id from before))))$$,
    $$values ('1999-02-28'::date)$$, 'after_id resumes');
select throws_ok($$select shop.report_summaries_after(-1)$$, 'TLIA1', 'after_id must be zero or more', 'negative after_id');
select throws_ok($$select shop.report_summaries_after(0, 0)$$, 'TLIA1', 'limit must be 1 to 1000', 'bad limit');

select * from finish();
rollback;
