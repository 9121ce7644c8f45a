-- list_users: a page with the total; paging and its validation.
begin;
set local role tally_app;
select plan(7);

create temp table u on commit drop as
    select * from shop.create_user('tap_Alice', 'Tap.Alice@Example.COM', 'first');
create temp table u2 on commit drop as select * from shop.create_user('tap_bob', 'tap.bob@example.com');

select ok((select bool_and(total >= 2) from shop.list_users(1, 1)), 'list_users: total counts every user');
select is((select count(*) from shop.list_users(1, 1)), 1::bigint, 'list_users: count limits the page');
select results_eq($$select id from shop.list_users(1, 1000000)$$, $$values (null::bigint)$$,
    'list_users: a page past the end is one row with only the total');
select throws_ok($$select shop.list_users(0, 1)$$, 'TLIA1', 'count must be 1 to 100', 'count 0');
select throws_ok($$select shop.list_users(101, 1)$$, 'TLIA1', 'count must be 1 to 100', 'count 101');
select throws_ok($$select shop.list_users(10, 0)$$, 'TLIA1', 'page must be 1 to 1000000', 'page 0');
select throws_ok($$select shop.list_users(10, 1000001)$$, 'TLIA1', 'page must be 1 to 1000000',
    'page above 1000000: the message states the limit');

select * from finish();
rollback;
