-- get_user: the user; NOT_FOUND and a bad id.
begin;
set local role tally_app;
select plan(3);

create temp table u on commit drop as
    select * from shop.create_user('tap_Alice', 'Tap.Alice@Example.COM', 'first');

select results_eq($$select username from shop.get_user((select id from u))$$,
    $$values ('tap_Alice'::text)$$, 'get_user');
select throws_ok($$select shop.get_user(9223372036854775807)$$, 'TLNF1', null, 'get_user: unknown id');
select throws_ok($$select shop.get_user(0)$$, 'TLIA1', 'user_id must be a positive id', 'get_user: bad id');

select * from finish();
rollback;
