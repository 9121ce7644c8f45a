-- get_order: the order with its lines; NOT_FOUND and a bad id.
begin;
set local role tally_app;
select plan(4);

create temp table u on commit drop as select * from shop.create_user('tap_lister', 'tap.lister@example.com');
create temp table a on commit drop as
    select * from shop.add_address((select id from u), 'Main 1', 'City', '', '111', 'DE', true);
create temp table c on commit drop as select * from shop.create_category('tap-list-cat');
create temp table p on commit drop as select * from shop.create_product('tap lp', null, '2.00', 100, (select id from c));
create temp table o2 on commit drop as select * from shop.create_order((select id from u), (select id from a), array[(select id from p)], array[2]);

select results_eq($$select id, total_price from shop.get_order((select id from o2))$$,
    $$select id, 4.00::numeric from o2$$, 'get_order');
select is((select items from shop.get_order((select id from o2))),
    jsonb_build_array(jsonb_build_object('product_id', (select id from p), 'quantity', 2, 'price_at_order', '2.00')),
    'get_order: the lines as placed, the price as decimal text');
select throws_ok($$select shop.get_order(9223372036854775807)$$, 'TLNF1', null, 'get_order: unknown');
select throws_ok($$select shop.get_order(0)$$, 'TLIA1', null, 'get_order: bad id');

select * from finish();
rollback;
