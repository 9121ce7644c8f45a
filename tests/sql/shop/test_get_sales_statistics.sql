-- get_sales_statistics: range checks; statistics written by create_order in the same
-- transaction, as tally_app.
begin;
set local role tally_app;
select plan(6);

create temp table u on commit drop as select * from shop.create_user('tap_stats', 'tap.stats@example.com');
create temp table a on commit drop as
    select * from shop.add_address((select id from u), 'Main 1', 'City', '', '111', 'DE', true);
create temp table c on commit drop as select * from shop.create_category('tap-stats-cat');
create temp table p on commit drop as select * from shop.create_product('tap st', null, '2.00', 100, (select id from c));
do $$ begin
    perform shop.create_order((select id from u), (select id from a), array[(select id from p)], array[3]);
    perform shop.create_order((select id from u), (select id from a), array[(select id from p)], array[4]);
end $$;

select results_eq(
    $$select items_sold, orders_count from shop.get_sales_statistics((select id from c),
        (now() at time zone 'UTC')::date, (now() at time zone 'UTC')::date)$$,
    $$values (7::bigint, 2::bigint)$$, 'same transaction, exact');
select results_eq(
    $$select items_sold from shop.statistics where category_id = (select id from c)$$,
    $$values (7::bigint)$$, 'the published view agrees');
select is((select count(*) from shop.get_sales_statistics((select id from c), '2000-01-01', '2000-01-02')),
    0::bigint, 'no sales: no rows');
select throws_ok($$select shop.get_sales_statistics(null, '2025-08-02', '2025-08-01')$$, 'TLIA1', null, 'reversed');
select throws_ok($$select shop.get_sales_statistics(null, null, '2025-08-01')$$, 'TLIA1', null, 'missing date');
select throws_ok($$select shop.get_sales_statistics(null, '2024-01-01', '2025-08-01')$$, 'TLIA1', null, 'too long');

select * from finish();
rollback;
