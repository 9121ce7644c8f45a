-- create_user: the email lower-cased, usernames and emails unique regardless of case, validation.
begin;
set local role tally_app;
select plan(10);

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

select * from finish();
rollback;
