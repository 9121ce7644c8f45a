-- list_products: filters (name, price bounds, category), the total, paging, validation.
begin;
set local role tally_app;
select plan(7);

create temp table c on commit drop as select * from shop.create_category('tap-Tools');
create temp table c2 on commit drop as select * from shop.create_category('tap-Toys');

create temp table p on commit drop as
    select * from shop.create_product('tap Hammer', 'heavy', '12.50', 7, (select id from c));
create temp table p2 on commit drop as
    select * from shop.create_product('tap Nail', null, '0.05', 1000, (select id from c));
create temp table p3 on commit drop as
    select * from shop.create_product('tap Ball', null, '3', 2, (select id from c2));

select results_eq($$select name from shop.list_products(10, 1, 'TAP HAM') order by id$$,
    $$values ('tap Hammer'::text)$$, 'name contains, case-insensitive');
select results_eq($$select name from shop.list_products(10, 1, 'tap ', '0.05', '3.00') order by price$$,
    $$values ('tap Nail'::text), ('tap Ball'::text)$$, 'price bounds are inclusive');
select results_eq($$select total, name from shop.list_products(10, 1, 'tap ', null, null, (select id from c2))$$,
    $$values (1::bigint, 'tap Ball'::text)$$, 'category filter and total');
select results_eq($$select total, id from shop.list_products(1, 5, 'tap ')$$,
    $$values (3::bigint, null::bigint)$$, 'a page past the end has the total');
select throws_ok($$select shop.list_products(10, 1, null, '5', '1')$$, 'TLIA1',
    'min_price must not exceed max_price', 'reversed price range');
select throws_ok($$select shop.list_products(10, 1, null, 'abc')$$, 'TLIA1', null, 'bad min_price');
select throws_ok($$select shop.list_products(0, 1)$$, 'TLIA1', 'count must be 1 to 100', 'count 0');

select * from finish();
rollback;
