-- delete_product: a product goes, a product in orders stays (PRODUCT_HAS_ORDERS); with a
-- key, once, and the key is bound to delete_product's request.
begin;
set local role tally_app;
select plan(6);

create temp table c on commit drop as select * from shop.create_category('tap-Tools');
create temp table c2 on commit drop as select * from shop.create_category('tap-Toys');
create temp table p3 on commit drop as
    select * from shop.create_product('tap Ball', null, '3', 2, (select id from c2));
select lives_ok($$select shop.delete_product((select id from p3))$$, 'delete_product');
select throws_ok($$select shop.delete_product((select id from p3))$$, 'TLNF1', null, 'delete_product: gone');

create temp table p4 on commit drop as
    select * from shop.create_product('tap Kite', null, '4', 1, (select id from c2));
select lives_ok($$select shop.delete_product((select id from p4), 'tap-del-key')$$,
    'delete_product with a key');
select lives_ok($$select shop.delete_product((select id from p4), 'tap-del-key')$$,
    'its repeat answers as the first call did (not PRODUCT_NOT_FOUND)');
select throws_ok($$select shop.delete_user((select id from p4), 'tap-del-key')$$, 'TLFP1',
    'this idempotency key was used with a different request',
    'the key is bound to delete_product''s request: delete_user of the same id is another');
reset role;
select is((select request_hash from tally.idempotency_keys where key = 'tap-del-key'),
    sha256(convert_to('shop.delete_product[' || (select id from p4) || ']', 'UTF8')),
    'the request is shop.delete_product''s name and its arguments');

select * from finish();
rollback;
