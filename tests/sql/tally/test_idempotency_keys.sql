-- The idempotency helpers every keyed write goes through (tally._idempotent_begin,
-- _idempotent_begin_batch, _idempotent_record) and the purge job's function.
begin;
select plan(18);

select is(tally._idempotent_begin('', 'k-1', 'f["a"]'), null::jsonb,
    'a new key: null, and the key is claimed');
select is((select request_hash from tally.idempotency_keys where scope = '' and key = 'k-1'),
    sha256(convert_to('f["a"]', 'UTF8')), 'the SHA-256 of the request is kept with it');
select lives_ok($$select tally._idempotent_record(array[''], array['k-1'], array['{"answer": 1}'::jsonb])$$,
    'the outcome is recorded with the key');
select is(tally._idempotent_begin('', 'k-1', 'f["a"]'), '{"answer": 1}'::jsonb,
    'the same key and request: the recorded outcome');
select throws_ok($$select tally._idempotent_begin('', 'k-1', 'f["b"]')$$, 'TLFP1',
    'this idempotency key was used with a different request',
    'the same key with another request: IDEMPOTENCY_KEY_REUSED');
select is(tally._idempotent_begin('api-key-1', 'k-1', 'f["b"]'), null::jsonb,
    'keys are per scope: another scope''s k-1 is a new key');
select throws_ok($$select tally._idempotent_begin('', '', 'f[]')$$, 'TLIA1',
    'idempotency key must be 1 to 128 printable ASCII characters', 'an empty key is invalid');
select throws_ok($$select tally._idempotent_begin('', repeat('k', 129), 'f[]')$$, 'TLIA1', null,
    'so is one of 129 characters');
select throws_ok($$select tally._idempotent_begin('', E'k\u00e9', 'f[]')$$, 'TLIA1', null,
    'and one that is not printable ASCII');
select is(tally._idempotent_begin('', repeat('~', 128), 'f[]'), null::jsonb,
    '128 printable characters are a key');

select results_eq(
    $$select ord, first_ord, outcome, error_reason
        from tally._idempotent_begin_batch(array['', '', '', '', '', null],
                                           array['b-1', 'b-1', null, 'k-1', 'b-1', 'b-2'],
                                           array['g[1]', 'g[1]', 'g[1]', 'f["a"]', 'g[2]', 'g[3]'])$$,
    $$values (1, 1, null::jsonb, null::text), (2, 1, null, null), (3, null, null, null),
             (4, null, '{"answer": 1}', null), (5, null, null, 'IDEMPOTENCY_KEY_REUSED'),
             (6, 6, null, null)$$,
    'a batch: new keys claimed by their first item, repeats answered as it, recorded keys '
    'replayed, reuse refused, no key left alone (a null scope is the shared one)');
select is((select count(*) from tally.idempotency_keys where key in ('b-1', 'b-2')), 2::bigint,
    'each key of the batch is claimed once');
select results_eq(
    $$select error_reason from tally._idempotent_begin_batch(array[''], array[''], array['x'])$$,
    $$values ('IDEMPOTENCY_KEY_INVALID'::text)$$, 'a batch reports an invalid key as its item''s');

-- Expiry: the window is 24 hours unless the job is given another.
update tally.idempotency_keys set created_at = now() - interval '25 hours' where key = 'k-1';
update tally.idempotency_keys set created_at = now() - interval '23 hours' where key = 'b-1';
select is(tally.purge_idempotency_keys(now()), 2::bigint,
    'the purge forgets the keys older than 24 hours (k-1 of both scopes)');
select is((select count(*) from tally.idempotency_keys where key = 'k-1'), 0::bigint, 'k-1 is gone');
select is(tally._idempotent_begin('', 'k-1', 'f["b"]'), null::jsonb,
    'a purged key is new again, whatever its request');
select is(tally.purge_idempotency_keys(now() + interval '2 hours'), 1::bigint,
    'the time is the job''s argument: two hours later b-1 is past the window too');
select throws_ok($$select tally.purge_idempotency_keys(null)$$, 'TLIA1', null,
    'the purge needs a time');

select * from finish();
rollback;
