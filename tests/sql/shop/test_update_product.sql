-- update_product: only the fields given change; validation; NOT_FOUND.
begin;
set local role tally_app;
select plan(5);

create temp table c on commit drop as select * from shop.create_category('tap-Tools');
create temp table c2 on commit drop as select * from shop.create_category('tap-Toys');

create temp table p on commit drop as
    select * from shop.create_product('tap Hammer', 'heavy', '12.50', 7, (select id from c));

select results_eq(
    $$select name, description, price, stock_quantity, category_id
        from shop.update_product((select id from p), p_price => '13.00', p_category_id => (select id from c2))$$,
    $$select 'tap Hammer'::text, 'heavy'::text, 13.00::numeric, 7, (select id from c2)$$,
    'update_product changes only the fields given');
select throws_ok($$select shop.update_product((select id from p), p_stock_quantity => -1)$$, 'TLIA1', null,
    'update_product: negative stock');
select throws_ok($$select shop.update_product((select id from p), p_price => '0.00')$$, 'TLIA1', null,
    'update_product: bad price');
select throws_ok($$select shop.update_product(9223372036854775807, 'x')$$, 'TLNF1', null,
    'update_product: unknown');
select throws_ok($$select shop.update_product((select id from p), p_category_id => 9223372036854775807)$$,
    'TLNF1', null, 'update_product: unknown category');

select * from finish();
rollback;
