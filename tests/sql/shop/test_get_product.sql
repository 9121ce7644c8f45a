-- get_product: the product; NOT_FOUND and a bad id.
begin;
set local role tally_app;
select plan(3);

create temp table c on commit drop as select * from shop.create_category('tap-Tools');

create temp table p on commit drop as
    select * from shop.create_product('tap Hammer', 'heavy', '12.50', 7, (select id from c));

select results_eq($$select name from shop.get_product((select id from p))$$, $$values ('tap Hammer'::text)$$, 'get_product');
select throws_ok($$select shop.get_product(9223372036854775807)$$, 'TLNF1', null, 'get_product: unknown');
select throws_ok($$select shop.get_product(0)$$, 'TLIA1', null, 'get_product: bad id');

select * from finish();
rollback;
