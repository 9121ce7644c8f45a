-- update_order_status: the allowed transitions, BAD_TRANSITION for the rest, a
-- cancellation returns the stock and leaves the statistics alone.
begin;
set local role tally_app;
select plan(15);

create temp table u on commit drop as select * from shop.create_user('tap_status', 'tap.status@example.com');
create temp table a on commit drop as
    select * from shop.add_address((select id from u), 'Main 1', 'City', '', '111', 'DE', true);
create temp table c on commit drop as select * from shop.create_category('tap-status-cat');
create temp table p on commit drop as select * from shop.create_product('tap sp', null, '2.00', 10, (select id from c));
create temp table o on commit drop as select * from shop.create_order((select id from u), (select id from a), array[(select id from p)], array[3]);
create temp table o2 on commit drop as select * from shop.create_order((select id from u), (select id from a), array[(select id from p)], array[2]);

select throws_ok($$select shop.update_order_status((select id from o), 'SHIPPED')$$, 'TLFP1',
    format('order %s cannot go from PENDING to SHIPPED', (select id from o)), 'PENDING -> SHIPPED');
select throws_ok($$select shop.update_order_status((select id from o), 'PENDING')$$, 'TLFP1', null, 'PENDING -> PENDING');
select is((select status::text from shop.update_order_status((select id from o), 'PAID')), 'PAID', 'PENDING -> PAID');
select throws_ok($$select shop.update_order_status((select id from o), 'DELIVERED')$$, 'TLFP1', null, 'PAID -> DELIVERED');
select is((select status::text from shop.update_order_status((select id from o), 'SHIPPED')), 'SHIPPED', 'PAID -> SHIPPED');
select throws_ok($$select shop.update_order_status((select id from o), 'CANCELLED')$$, 'TLFP1', null, 'SHIPPED -> CANCELLED');
select is((select status::text from shop.update_order_status((select id from o), 'DELIVERED')), 'DELIVERED', 'SHIPPED -> DELIVERED');
select throws_ok($$select shop.update_order_status((select id from o), 'PAID')$$, 'TLFP1', null, 'DELIVERED -> PAID');
select is((select stock_quantity from shop.get_product((select id from p))), 5, 'stock before the cancellation');
select is((select status::text from shop.update_order_status((select id from o2), 'CANCELLED')), 'CANCELLED',
    'PENDING -> CANCELLED');
select is((select stock_quantity from shop.get_product((select id from p))), 7, 'cancelling returns the stock');
select throws_ok($$select shop.update_order_status((select id from o2), 'CANCELLED')$$, 'TLFP1', null,
    'CANCELLED -> CANCELLED: the stock comes back only once');
select results_eq($$select items_sold, orders_count from shop.statistics where category_id = (select id from c)$$,
    $$values (5::bigint, 2::bigint)$$, 'statistics count placed orders: a cancellation leaves them alone');
select throws_ok($$select shop.update_order_status(9223372036854775807, 'PAID')$$, 'TLNF1', null, 'unknown order');
select throws_ok($$select shop.update_order_status((select id from o2), null)$$, 'TLIA1', 'status is required', 'null status');

select * from finish();
rollback;
