-- create_product: exact decimal prices, validation of every field, the category must exist.
begin;
set local role tally_app;
select plan(12);

create temp table c on commit drop as select * from shop.create_category('tap-Tools');
create temp table c2 on commit drop as select * from shop.create_category('tap-Toys');

create temp table p on commit drop as
    select * from shop.create_product('tap Hammer', 'heavy', '12.50', 7, (select id from c));
create temp table p2 on commit drop as
    select * from shop.create_product('tap Nail', null, '0.05', 1000, (select id from c));
create temp table p3 on commit drop as
    select * from shop.create_product('tap Ball', null, '3', 2, (select id from c2));
select results_eq($$select name, description, price, stock_quantity from p$$,
    $$values ('tap Hammer'::text, 'heavy'::text, 12.50::numeric, 7)$$, 'create_product');
select is((select price::text from p3), '3.00', 'prices have two decimals');
select throws_ok($$select shop.create_product('x', null, '0', 1, (select id from c))$$, 'TLIA1', null, 'price 0');
select throws_ok($$select shop.create_product('x', null, '-1.00', 1, (select id from c))$$, 'TLIA1', null, 'negative price');
select throws_ok($$select shop.create_product('x', null, '1.005', 1, (select id from c))$$, 'TLIA1', null, 'three decimals');
select throws_ok($$select shop.create_product('x', null, '1e3', 1, (select id from c))$$, 'TLIA1', null, 'exponent');
select throws_ok($$select shop.create_product('x', null, null, 1, (select id from c))$$, 'TLIA1', null, 'no price');
select throws_ok($$select shop.create_product('x', null, '1', -1, (select id from c))$$, 'TLIA1',
    'stock_quantity must be zero or more', 'negative stock');
select throws_ok($$select shop.create_product('', null, '1', 1, (select id from c))$$, 'TLIA1',
    'name must be 1 to 200 characters', 'empty name');
select throws_ok($$select shop.create_product('x', repeat('d', 2001), '1', 1, (select id from c))$$, 'TLIA1',
    'description must be at most 2000 characters', 'long description');
select throws_ok($$select shop.create_product('x', null, '1', 1, 9223372036854775807)$$, 'TLNF1', null,
    'unknown category');
select throws_ok($$select shop.create_product('x', null, '1', 1, 0)$$, 'TLIA1', null, 'bad category id');

select * from finish();
rollback;
