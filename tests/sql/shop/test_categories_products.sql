-- create_category, list_categories, create_product, get_product, list_products,
-- update_product, delete_product, as tally_app.
begin;
set local role tally_app;
select plan(33);

create temp table c on commit drop as select * from shop.create_category('tap-Tools');
create temp table c2 on commit drop as select * from shop.create_category('tap-Toys');
select throws_ok($$select shop.create_category('TAP-TOOLS')$$, 'TLAE1', 'category TAP-TOOLS already exists',
    'category names are unique regardless of case');
select throws_ok($$select shop.create_category('')$$, 'TLIA1', 'name must be 1 to 100 characters', 'empty name');
select throws_ok($$select shop.create_category(null)$$, 'TLIA1', null, 'null name');
select ok((select count(*) from shop.list_categories() where name in ('tap-Tools', 'tap-Toys')) = 2,
    'list_categories');

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

select results_eq($$select name from shop.get_product((select id from p))$$, $$values ('tap Hammer'::text)$$, 'get_product');
select throws_ok($$select shop.get_product(9223372036854775807)$$, 'TLNF1', null, 'get_product: unknown');
select throws_ok($$select shop.get_product(0)$$, 'TLIA1', null, 'get_product: bad id');

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
select lives_ok($$select shop.delete_product((select id from p3))$$, 'delete_product');
select throws_ok($$select shop.delete_product((select id from p3))$$, 'TLNF1', null, 'delete_product: gone');

select * from finish();
rollback;
