-- A keyed single call's failure, as a psql user (tally_app) meets it: the error carries
-- the key and a token in its HINT; tally.remember_failure records it with those fields
-- (once: a second time, or with a token the database did not make, records nothing); a
-- retry then raises the same error, details and all, without running; the key stays bound
-- to its request. The secret behind the tokens is the owner's alone.
begin;
select plan(14);

create temp table caught (sqlstate text, message text, detail text, col text, hint text);
grant all on caught to public;
create function pg_temp.catch(p_sql text) returns void language plpgsql as $$
declare s text; m text; d text; c text; h text;
begin
    execute p_sql;
    insert into caught values (null, 'no error', null, null, null);
exception when others then
    get stacked diagnostics s = returned_sqlstate, m = message_text, d = pg_exception_detail,
        c = column_name, h = pg_exception_hint;
    insert into caught values (s, m, d, c, h);
end $$;

set local role tally_app;
select pg_temp.catch($$select booking.cancel_booking(987654321, 'tap-fail')$$);
select results_eq($$select sqlstate, detail, col, hint::jsonb->'idempotency'->>'key' from caught$$,
    $$values ('TLNF1'::text, 'BOOKING_NOT_FOUND'::text, 'booking_id'::text, 'tap-fail'::text)$$,
    'a keyed call''s error names its key in HINT');
select ok((select hint::jsonb->'idempotency'->>'token' ~ '^[0-9a-f]{64}$'
                  and hint::jsonb->'idempotency'->>'request' ~ '^[0-9a-f]{64}$' from caught),
    'with the request''s hash and a token');
delete from caught;
select pg_temp.catch($$select booking.cancel_booking(987654321)$$);
select is((select nullif(hint, '') from caught), null,
    'an unkeyed call''s error has no HINT');
delete from caught;
select pg_temp.catch($$select booking.cancel_booking(987654321, 'tap-fail')$$);

-- A forged token, or another key under a real token, records nothing.
select is(tally.remember_failure(sqlstate, detail, message, col,
              jsonb_set(hint::jsonb, '{idempotency,token}', to_jsonb(repeat('0', 64)))::text),
          false, 'a token the database did not make records nothing')
  from caught limit 1;
select is(tally.remember_failure(sqlstate, detail, message, col,
              jsonb_set(hint::jsonb, '{idempotency,key}', '"tap-other"')::text),
          false, 'nor does a real token moved to another key')
  from caught limit 1;
select is(tally.remember_failure(sqlstate, detail, 'booking 1 not found', col, hint), false,
    'nor one with another message') from caught limit 1;
select is(tally.remember_failure(sqlstate, detail, message, col, hint), true,
    'the failure as raised is recorded') from caught limit 1;
select is(tally.remember_failure(sqlstate, detail, message, col, hint), false,
    'once') from caught limit 1;

delete from caught;
select pg_temp.catch($$select booking.cancel_booking(987654321, 'tap-fail')$$);
select results_eq($$select sqlstate, message, detail, col, nullif(hint, '') from caught$$,
    $$values ('TLNF1'::text, 'booking 987654321 not found'::text, 'BOOKING_NOT_FOUND'::text,
              'booking_id'::text, null::text)$$,
    'the retry raises the recorded error (its HINT has no key: nothing left to record)');
select throws_ok($$select booking.cancel_booking(1, 'tap-fail')$$, 'TLFP1',
    'this idempotency key was used with a different request',
    'the key stays bound to its request');

-- Details in HINT survive: a short order's precondition failures come back on the retry.
reset role;
create temp table s on commit drop as
select u.id as u, a.id as a, p.id as p
  from shop.create_user('tap_fail', 'tap-fail@example.com') u,
       lateral shop.add_address(u.id, 'Main 1', 'City', '', '111', 'DE', true) a,
       lateral shop.create_category('tap fail') c,
       lateral shop.create_product('tap fail', null, '1.00', 1, c.id) p;
grant select on s to public;
set local role tally_app;
delete from caught;
select pg_temp.catch($$select * from shop.create_order((select u from s), (select a from s),
                                                       array[(select p from s)], array[5], 'tap-short')$$);
select is(tally.remember_failure(sqlstate, detail, message, col, hint), true,
    'a short order''s failure is recorded') from caught;
reset role;
do $$ begin perform shop.update_product((select p from s), p_stock_quantity => 50); end $$;
set local role tally_app;
delete from caught;
select pg_temp.catch($$select * from shop.create_order((select u from s), (select a from s),
                                                       array[(select p from s)], array[5], 'tap-short')$$);
select results_eq($$select detail, hint::jsonb->'precondition_failure'->0->>'requested' from caught$$,
    $$values ('INSUFFICIENT_STOCK'::text, '5'::text)$$,
    'and raised again with its details, though stock has come in since');

select ok(not has_table_privilege('tally_app', 'tally.idempotency_secret', 'SELECT')
          and not has_function_privilege('tally_app', 'tally._idempotent_token(text,text,bytea,text,text,text,text,text)', 'EXECUTE')
          and not has_function_privilege('tally_app', 'tally._remember_failure(text,text,text,text,text)', 'EXECUTE'),
    'tally_app can neither read the secret nor make a token');
reset role;
select is((select count(*) from tally.idempotency_secret), 1::bigint, 'one secret');

select * from finish();
rollback;
