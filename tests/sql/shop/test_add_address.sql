-- add_address: validation, at most one primary address per user (a new one demotes the old).
begin;
set local role tally_app;
select plan(10);

create temp table u on commit drop as select * from shop.create_user('tap_addr', 'tap.addr@example.com');
create temp table a1 on commit drop as
    select * from shop.add_address((select id from u), 'Main 1', 'Berlin', 'BE', '10115', 'DE', true);
create temp table a2 on commit drop as
    select * from shop.add_address((select id from u), 'Side 2', 'Berlin', '', '10117', 'DE', false);

select ok((select is_primary from a1), 'first address is primary');
select is((select count(*) from shop.list_addresses((select id from u)) where is_primary), 1::bigint,
    'one primary');
create temp table a3 on commit drop as
    select * from shop.add_address((select id from u), 'New 3', 'Hamburg', '', '20095', 'DE', true);
select results_eq($$select id from shop.list_addresses((select id from u)) where is_primary$$,
    $$select id from a3$$, 'a new primary address demotes the previous one');
select throws_ok($$select shop.add_address(9223372036854775807, 'S', 'C', '', '1', 'DE', false)$$,
    'TLNF1', null, 'unknown user');
select throws_ok($$select shop.add_address(0, 'S', 'C', '', '1', 'DE', false)$$, 'TLIA1', null, 'bad user id');
select throws_ok($$select shop.add_address((select id from u), '', 'C', '', '1', 'DE', false)$$,
    'TLIA1', 'street must be 1 to 200 characters', 'empty street');
select throws_ok($$select shop.add_address((select id from u), 'S', '', '', '1', 'DE', false)$$,
    'TLIA1', 'city must be 1 to 100 characters', 'empty city');
select throws_ok($$select shop.add_address((select id from u), 'S', 'C', repeat('s', 101), '1', 'DE', false)$$,
    'TLIA1', 'state must be at most 100 characters', 'long state');
select throws_ok($$select shop.add_address((select id from u), 'S', 'C', '', '', 'DE', false)$$,
    'TLIA1', 'zip_code must be 1 to 20 characters', 'empty zip');
select throws_ok($$select shop.add_address((select id from u), 'S', 'C', '', '1', 'D', false)$$,
    'TLIA1', 'country must be 2 to 100 characters', 'short country');

select * from finish();
rollback;
