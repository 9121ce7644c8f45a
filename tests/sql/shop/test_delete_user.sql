-- delete_user: the user and their addresses go; refused while the user has orders
-- (USER_HAS_ORDERS); NOT_FOUND once gone.
begin;
set local role tally_app;
select plan(5);

create temp table u on commit drop as select * from shop.create_user('tap_del', 'tap.del@example.com');
create temp table a on commit drop as
    select * from shop.add_address((select id from u), 'Street 1', 'City', '', '111', 'DE', true);
create temp table c on commit drop as select * from shop.create_category('tap-del-cat');
create temp table p on commit drop as select * from shop.create_product('tap-del-p', null, '1.00', 5, (select id from c));
create temp table o on commit drop as
    select * from shop.create_order((select id from u), (select id from a), array[(select id from p)], array[1]);
create temp table u2 on commit drop as select * from shop.create_user('tap_del2', 'tap.del2@example.com');
create temp table u3 on commit drop as select * from shop.create_user('tap_bob', 'tap.bob@example.com');

select throws_ok($$select shop.delete_user((select id from u))$$, 'TLFP1',
    format('user %s has orders and cannot be deleted', (select id from u)), 'a user with orders stays');
do $$ begin perform shop.add_address((select id from u2), 'S', 'C', '', '1', 'DE', false); end $$;
select lives_ok($$select shop.delete_user((select id from u2))$$, 'a user without orders goes');
select throws_ok($$select shop.list_addresses((select id from u2))$$, 'TLNF1', null,
    'and their addresses with them');
select lives_ok($$select shop.delete_user((select id from u3))$$, 'delete_user');
select throws_ok($$select shop.delete_user((select id from u3))$$, 'TLNF1', null,
    'delete_user: gone');

select * from finish();
rollback;
