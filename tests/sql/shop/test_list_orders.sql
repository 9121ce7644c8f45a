-- list_orders: filters, newest first, the total, paging.
begin;
set local role tally_app;
select plan(5);

create temp table u on commit drop as select * from shop.create_user('tap_lister', 'tap.lister@example.com');
create temp table a on commit drop as
    select * from shop.add_address((select id from u), 'Main 1', 'City', '', '111', 'DE', true);
create temp table c on commit drop as select * from shop.create_category('tap-list-cat');
create temp table p on commit drop as select * from shop.create_product('tap lp', null, '2.00', 100, (select id from c));
create temp table o1 on commit drop as select * from shop.create_order((select id from u), (select id from a), array[(select id from p)], array[1]);
create temp table o2 on commit drop as select * from shop.create_order((select id from u), (select id from a), array[(select id from p)], array[2]);
do $$ begin perform shop.update_order_status((select id from o1), 'PAID'); end $$;
select results_eq($$select id from shop.list_orders((select id from u), null, 10, 1)$$,
    $$select id from o2 union all select id from o1$$, 'newest first (same timestamp: higher id first)');
select results_eq($$select total, id from shop.list_orders((select id from u), 'PAID', 10, 1)$$,
    $$select 1::bigint, id from o1$$, 'status filter');
select results_eq($$select total, id from shop.list_orders((select id from u), 'SHIPPED', 10, 1)$$,
    $$values (0::bigint, null::bigint)$$, 'no match: total 0');
select results_eq($$select total from shop.list_orders((select id from u), null, 1, 2)$$,
    $$values (2::bigint)$$, 'page 2 of size 1');
select throws_ok($$select shop.list_orders(null, null, 101, 1)$$, 'TLIA1', 'count must be 1 to 100', 'count 101');

select * from finish();
rollback;
