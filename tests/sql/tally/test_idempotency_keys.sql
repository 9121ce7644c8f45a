-- The idempotency helpers every keyed write goes through (tally._idempotent_claim and
-- _idempotent_record for one call, _idempotent_plan and _idempotent_finish for a batch)
-- and the purge job's function.
begin;
select plan(27);

select is(tally._idempotent_claim('', 'k-1', 'f', '["a"]'), null::jsonb,
    'a new key: null, the work is this call''s');
select is((select count(*) from tally.idempotency_keys where key = 'k-1'), 0::bigint,
    'claiming writes nothing: the key is inserted once, with its outcome');
select is((select count(*) from pg_locks
            where locktype = 'advisory' and pid = pg_backend_pid() and granted
              and ((classid::bigint << 32) | objid::bigint) = tally._idempotent_lock('', 'k-1')),
    1::bigint, 'the claim holds the key''s transaction-scoped advisory lock');
select is(tally._idempotent_record('{"answer": 1}'), '{"answer": 1}'::jsonb,
    'recording returns the outcome');
select is(current_setting('tally.idempotency_pending'), '',
    'and clears the key pending in the transaction');
select throws_ok($$select tally._idempotent_record('2')$$, 'P0001',
    'tally._idempotent_record: no idempotency key claimed in this transaction',
    'recording with no key claimed raises');
select is((select request_hash from tally.idempotency_keys where scope = '' and key = 'k-1'),
    sha256(convert_to('f["a"]', 'UTF8')),
    'the SHA-256 of the request (the name, then the arguments as JSON) is kept with it');
select is(tally._idempotent_claim('', 'k-1', 'f', '["a"]'), '{"answer": 1}'::jsonb,
    'the same key and request: the recorded outcome');
select throws_ok($$select tally._idempotent_claim('', 'k-1', 'f', '["b"]')$$, 'TLFP1',
    'this idempotency key was used with a different request',
    'the same key with another request: IDEMPOTENCY_KEY_REUSED');
select is(tally._idempotent_claim('api-key-1', 'k-1', 'f', '["b"]'), null::jsonb,
    'keys are per scope: another scope''s k-1 is a new key');
select isnt(tally._idempotent_lock('api-key-1', 'k-1'), tally._idempotent_lock('', 'k-1'),
    'and it has a lock of its own');
select lives_ok($$select tally._idempotent_record('2')$$,
    'which is recorded in its scope');
select throws_ok($$select tally._idempotent_claim('', '', 'f', '[]')$$, 'TLIA1',
    'idempotency key must be 1 to 128 printable ASCII characters', 'an empty key is invalid');
select throws_ok($$select tally._idempotent_claim('', repeat('k', 129), 'f', '[]')$$, 'TLIA1', null,
    'so is one of 129 characters');
select throws_ok($$select tally._idempotent_claim('', E'k\u00e9', 'f', '[]')$$, 'TLIA1', null,
    'and one that is not printable ASCII');
select is(tally._idempotent_claim('', repeat('~', 128), 'f', '[]'), null::jsonb,
    '128 printable characters are a key');

-- A batch: plan, then finish with the outcomes of the items to do.
create temporary table plan as
select * from tally._idempotent_plan(array['', '', '', '', '', null, ''],
                                     array['b-1', 'b-1', null, 'k-1', 'b-1', 'b-2', ''],
                                     array['g[1]', 'g[1]', 'g[1]', 'f["a"]', 'g[2]', 'g[3]', 'x']);
select results_eq(
    $$select first_ord, replays, reasons, todo from plan$$,
    $$values (array[1, 1, null, null, null, 6, null],
              array[null, null, null, '{"answer": 1}', null, null, null]::jsonb[],
              array[null, null, null, null, 'IDEMPOTENCY_KEY_REUSED', null,
                    'IDEMPOTENCY_KEY_INVALID'],
              array[1, 3, 6])$$,
    'a batch: new keys done by their first item, repeats answered as it, recorded keys '
    'replayed, reuse (of a recorded key or one first in the batch) and invalid keys '
    'refused, no key left alone (a null scope is the shared one)');
select is((select hashes[6] from plan), sha256(convert_to('g[3]', 'UTF8')),
    'the plan carries each request''s hash');
select is((select count(*) from tally.idempotency_keys where key in ('b-1', 'b-2')), 0::bigint,
    'planning writes nothing');
select results_eq(
    $$select f.r ->> 'ord', coalesce(f.r ->> 'error_reason', f.r ->> 'answer', f.r #>> '{v}')
        from plan p,
             jsonb_array_elements(tally._idempotent_finish(
                 row(p.scopes, p.keys, p.first_ord, p.replays, p.reasons, p.hashes, p.todo)::tally.idempotent_plan,
                 array['{"ord": 2, "v": "three"}', '{"ord": 1, "v": "one"}',
                       '{"ord": 3, "v": "six"}']::jsonb[])) f (r)$$,
    $$values ('1', 'one'), ('2', 'one'), ('3', 'three'), ('4', '1'),
             ('5', 'IDEMPOTENCY_KEY_REUSED'), ('6', 'six'), ('7', 'IDEMPOTENCY_KEY_INVALID')$$,
    'finishing answers every item in order: its own outcome (the done row whose ord k is '
    'todo item k), its first item''s, the recorded one, or its key''s error');
select results_eq(
    $$select key, request_hash, outcome from tally.idempotency_keys
       where key in ('b-1', 'b-2') order by key$$,
    $$values ('b-1', sha256(convert_to('g[1]', 'UTF8')), '{"ord": 1, "v": "one"}'::jsonb),
             ('b-2', sha256(convert_to('g[3]', 'UTF8')), '{"ord": 3, "v": "six"}'::jsonb)$$,
    'each new key of the batch is inserted once, with its first item''s request and outcome');

-- Expiry: the window is 24 hours unless the job is given another.
update tally.idempotency_keys set created_at = now() - interval '25 hours' where key = 'k-1';
update tally.idempotency_keys set created_at = now() - interval '23 hours' where key = 'b-1';
select is(tally.purge_idempotency_keys(now()), 2::bigint,
    'the purge forgets the keys older than 24 hours (k-1 of both scopes)');
select is((select count(*) from tally.idempotency_keys where key = 'k-1'), 0::bigint, 'k-1 is gone');
select is(tally._idempotent_claim('', 'k-1', 'f', '["b"]'), null::jsonb,
    'a purged key is new again, whatever its request');
select is(tally.purge_idempotency_keys(now() + interval '2 hours'), 1::bigint,
    'the time is the job''s argument: two hours later b-1 is past the window too');
select throws_ok($$select tally.purge_idempotency_keys(null)$$, 'TLIA1', null,
    'the purge needs a time');

-- Recorded keys are looked up by the primary key whatever the statistics say: a plan
-- cached while the table was empty or never analyzed would scan all of it on every call.
select is(
    array(select p.proname || ': ' || c
            from pg_proc p cross join unnest(p.proconfig) c
           where p.pronamespace = 'tally'::regnamespace
             and p.proname in ('_idempotent_claim', '_idempotent_plan')
             and c like 'enable_seqscan=%'
           order by 1),
    array['_idempotent_claim: enable_seqscan=off', '_idempotent_plan: enable_seqscan=off'],
    'the key lookups never scan the table');

select * from finish();
rollback;
