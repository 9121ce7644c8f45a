-- API keys: created and revoked by tally_operator only, validated in SQL, stored as a
-- SHA-256 only; tally_app learns a live key's scopes and nothing else.
begin;
select plan(24);

create temp table made (name text, key text) on commit drop;
grant select, insert on made to public;

set local role tally_operator;
insert into made values
    ('frontend', tally.create_api_key('frontend', array['booking:write', 'booking:read', 'booking:read'])),
    ('admin', tally.create_api_key('admin', array['*']));
reset role;

select ok((select bool_and(key ~ '^tally_[0-9a-f]{12}_[0-9a-f]{64}$') from made),
    'a key reads tally_<12 hex id>_<64 hex secret>');
select is((select count(distinct key) from made), 2::bigint, 'each key is new');
select is((select scopes from tally.api_keys where name = 'frontend'),
    array['booking:read', 'booking:write'], 'scopes are kept once each, sorted');
select ok((select bool_and(k.secret_hash = sha256(convert_to(m.key, 'UTF8'))
                           and position(convert_to(substr(m.key, 20), 'UTF8') in k.secret_hash) = 0)
             from made m join tally.api_keys k using (name)),
    'only the SHA-256 of the key is stored');
select ok(not exists (select 1 from pg_attribute a
                       where a.attrelid = 'tally.api_keys'::regclass and a.attnum > 0
                         and a.attname in ('key', 'secret')),
    'the table has no column for the key itself');

-- tally_app: scopes of a live key, by the key.
set local role tally_app;
select results_eq(
    $$select scopes from tally.authenticate_api_key((select key from made where name = 'frontend'))$$,
    $$values (array['booking:read', 'booking:write'])$$, 'tally_app gets a live key''s scopes');
select ok((select key_id from tally.authenticate_api_key((select key from made where name = 'admin')))
          = (select substr(key, 7, 12) from made where name = 'admin'),
    'and its id (what rate limits count by)');
select is_empty($$select * from tally.authenticate_api_key(
    (select left(key, -1) || case right(key, 1) when '0' then '1' else '0' end
       from made where name = 'frontend'))$$, 'a key with a wrong secret is unknown');
select is_empty($$select * from tally.authenticate_api_key('tally_000000000000_' || repeat('0', 64))$$,
    'an unknown id is unknown');
select is_empty($$select * from tally.authenticate_api_key('Bearer nonsense')$$,
    'a malformed key is unknown');
select is_empty($$select * from tally.authenticate_api_key(null)$$, 'and so is null');
select throws_ok($$select * from tally.api_keys$$, '42501', null,
    'tally_app cannot read the keys table');
select throws_ok($$select tally.create_api_key('mine', array['*'])$$, '42501', null,
    'tally_app cannot create a key');
select throws_ok($$select tally.revoke_api_key('admin')$$, '42501', null,
    'nor revoke one');
reset role;

set local role tally_jobs;
select throws_ok($$select tally.create_api_key('mine', array['*'])$$, '42501', null,
    'tally_jobs cannot create a key (only the operator role may)');
reset role;

-- Validation, as the operator.
set local role tally_operator;
select throws_ok($$select tally.create_api_key('frontend', array['shop:read'])$$, 'TLAE1', null,
    'a live key''s name cannot be taken again');
select throws_ok($$select tally.create_api_key('', array['shop:read'])$$, 'TLIA1', null,
    'a name is required');
select throws_ok($$select tally.create_api_key('bad name', array['shop:read'])$$, 'TLIA1', null,
    'a name has no spaces');
select throws_ok($$select tally.create_api_key('x', array[]::text[])$$, 'TLIA1', null,
    'a key has at least one scope');
select throws_ok($$select tally.create_api_key('x', array['shop:delete'])$$, 'TLIA1',
    'unknown scope shop:delete: use *, or <domain>:read or <domain>:write for booking, clicks, segments or shop',
    'an unknown scope is refused, and named');
select throws_ok($$select tally.create_api_key('x', array['shop:read', null])$$, 'TLIA1', null,
    'a null scope is refused');
select throws_ok($$select tally.revoke_api_key('nobody')$$, 'TLNF1', null,
    'revoking an unknown name: not found');

-- Revocation: the key stops working; the name may be given to a new key.
select lives_ok($$select tally.revoke_api_key('frontend')$$, 'the operator revokes a key');
insert into made values ('frontend-2', tally.create_api_key('frontend', array['shop:read']));
reset role;
set local role tally_app;
select is_empty($$select * from tally.authenticate_api_key((select key from made where name = 'frontend'))$$,
    'a revoked key is unknown, and its name is free for a new key');
reset role;

select * from finish();
rollback;
