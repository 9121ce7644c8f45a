-- list_addresses: the user's addresses, the primary one first; NOT_FOUND and a bad id.
begin;
set local role tally_app;
select plan(4);

create temp table u on commit drop as select * from shop.create_user('tap_addr', 'tap.addr@example.com');
create temp table a1 on commit drop as
    select * from shop.add_address((select id from u), 'Main 1', 'Berlin', 'BE', '10115', 'DE', true);
create temp table a2 on commit drop as
    select * from shop.add_address((select id from u), 'Side 2', 'Berlin', '', '10117', 'DE', false);
create temp table a3 on commit drop as
    select * from shop.add_address((select id from u), 'New 3', 'Hamburg', '', '20095', 'DE', true);
select is((select count(*) from shop.list_addresses((select id from u))), 3::bigint, 'list_addresses');
select results_eq($$select id from shop.list_addresses((select id from u)) limit 1$$,
    $$select id from a3$$, 'the primary address comes first');
select throws_ok($$select shop.list_addresses(9223372036854775807)$$, 'TLNF1', null, 'list: unknown user');
select throws_ok($$select shop.list_addresses(-1)$$, 'TLIA1', null, 'list: bad id');

select * from finish();
rollback;
