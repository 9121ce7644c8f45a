-- delete_product: a product goes, a product in orders stays (PRODUCT_HAS_ORDERS).
begin;
set local role tally_app;
select plan(2);

create temp table c on commit drop as select * from shop.create_category('tap-Tools');
create temp table c2 on commit drop as select * from shop.create_category('tap-Toys');
create temp table p3 on commit drop as
    select * from shop.create_product('tap Ball', null, '3', 2, (select id from c2));
select lives_ok($$select shop.delete_product((select id from p3))$$, 'delete_product');
select throws_ok($$select shop.delete_product((select id from p3))$$, 'TLNF1', null, 'delete_product: gone');

select * from finish();
rollback;
