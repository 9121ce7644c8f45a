-- update_user: only the fields given change; an empty description clears it; EMAIL_TAKEN, NOT_FOUND.
begin;
set local role tally_app;
select plan(5);

create temp table u on commit drop as
    select * from shop.create_user('tap_Alice', 'Tap.Alice@Example.COM', 'first');
create temp table u2 on commit drop as select * from shop.create_user('tap_bob', 'tap.bob@example.com');

select results_eq(
    $$select username, email, description from shop.update_user((select id from u), p_description => 'second')$$,
    $$values ('tap_Alice'::text, 'tap.alice@example.com'::text, 'second'::text)$$,
    'update_user changes only the fields given');
select results_eq(
    $$select description from shop.update_user((select id from u), p_description => '')$$,
    $$values (null::text)$$, 'an empty description clears it');
select throws_ok($$select shop.update_user((select id from u), p_email => 'TAP.BOB@example.com')$$,
    'TLAE1', 'email is already registered', 'update_user: email taken');
select throws_ok($$select shop.update_user(9223372036854775807, 'tap_zed')$$, 'TLNF1', null,
    'update_user: unknown id');
select throws_ok($$select shop.update_user((select id from u), 'x')$$, 'TLIA1', null,
    'update_user: bad username');

select * from finish();
rollback;
