-- shop users: create_user, get_user, list_users, update_user, delete_user, as tally_app.
begin;
set local role tally_app;
select plan(26);

create temp table u on commit drop as
    select * from shop.create_user('tap_Alice', 'Tap.Alice@Example.COM', 'first');
create temp table u2 on commit drop as select * from shop.create_user('tap_bob', 'tap.bob@example.com');

select results_eq($$select username, email, description from u$$,
    $$values ('tap_Alice'::text, 'tap.alice@example.com'::text, 'first'::text)$$,
    'create_user stores the email lower-cased');
select ok((select created_at = updated_at from u), 'a new user: updated_at = created_at');
select throws_ok($$select shop.create_user('TAP_ALICE', 'other@example.com')$$, 'TLAE1',
    'username is already taken', 'usernames are unique regardless of case');
select throws_ok($$select shop.create_user('tap_carol', 'TAP.ALICE@example.com')$$, 'TLAE1',
    'email is already registered', 'emails are unique regardless of case');
select throws_ok($$select shop.create_user('ab', 'x@example.com')$$, 'TLIA1', null, 'username too short');
select throws_ok($$select shop.create_user('bad name', 'x@example.com')$$, 'TLIA1', null, 'username with a space');
select throws_ok($$select shop.create_user(null, 'x@example.com')$$, 'TLIA1', null, 'null username');
select throws_ok($$select shop.create_user('tap_dave', 'not-an-email')$$, 'TLIA1',
    'email is not a valid address', 'bad email');
select throws_ok($$select shop.create_user('tap_dave', null)$$, 'TLIA1', null, 'null email');
select throws_ok($$select shop.create_user('tap_dave', 'd@example.com', repeat('x', 1001))$$,
    'TLIA1', 'description must be at most 1000 characters', 'description too long');

select results_eq($$select username from shop.get_user((select id from u))$$,
    $$values ('tap_Alice'::text)$$, 'get_user');
select throws_ok($$select shop.get_user(9223372036854775807)$$, 'TLNF1', null, 'get_user: unknown id');
select throws_ok($$select shop.get_user(0)$$, 'TLIA1', 'user_id must be a positive id', 'get_user: bad id');

select ok((select bool_and(total >= 2) from shop.list_users(1, 1)), 'list_users: total counts every user');
select is((select count(*) from shop.list_users(1, 1)), 1::bigint, 'list_users: count limits the page');
select results_eq($$select id from shop.list_users(1, 1000000)$$, $$values (null::bigint)$$,
    'list_users: a page past the end is one row with only the total');
select throws_ok($$select shop.list_users(0, 1)$$, 'TLIA1', 'count must be 1 to 100', 'count 0');
select throws_ok($$select shop.list_users(101, 1)$$, 'TLIA1', 'count must be 1 to 100', 'count 101');
select throws_ok($$select shop.list_users(10, 0)$$, 'TLIA1', 'page must be 1 or more', 'page 0');

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

select lives_ok($$select shop.delete_user((select id from u2))$$, 'delete_user');
select throws_ok($$select shop.delete_user((select id from u2))$$, 'TLNF1', null,
    'delete_user: gone');

select * from finish();
rollback;
