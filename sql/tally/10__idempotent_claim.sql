-- _idempotent_claim(scope, key, name, args): claim a single-call write's key. Null when
-- the key is new: the key is now locked by this transaction (_idempotent_lock); do the
-- work, then _idempotent_record its outcome. Otherwise the outcome recorded with the key,
-- which the write answers without doing anything. The request is the call's canonical
-- text, built here and nowhere else: the function's name followed by its arguments as a
-- JSON array (name || args::text, as 'shop.delete_user[42]'); its SHA-256 must match the
-- recorded one: a key sent with a different request raises TLFP1 IDEMPOTENCY_KEY_REUSED,
-- a malformed key TLIA1 IDEMPOTENCY_KEY_INVALID (field idempotency_key).
-- A recorded failure (tally.remember_failure) is raised again as it was first raised. A
-- recorded outcome sets the transaction's tally.idempotency_replayed to 'on' (the server
-- counts a replayed RecordClicks' clicks in no metric).
-- While a new key's work runs, the transaction's setting tally.idempotency_pending names
-- the scope, the key and the request's hash: _idempotent_record records the outcome
-- against them, and an error raised meanwhile (tally.raise_error) carries them, with a
-- token, so that the failure can be recorded once the transaction has rolled back.
-- _idempotent_record clears it.
-- A write function calls the pair in one expression:
--   coalesce(tally._idempotent_claim(scope, key, 'schema.function', jsonb_build_array(...)),
--            tally._idempotent_record(<the work, as jsonb>))
-- COALESCE evaluates its arguments left to right and only until one is not null, so the
-- work (and the recording) runs only for a new key, and after its claim.
-- The key is read through the primary key even while the table looks empty (see
-- _idempotent_plan: a cached plan would otherwise scan the whole table as it grows).
create function tally._idempotent_claim(p_scope text, p_key text, p_name text, p_args jsonb)
returns jsonb
language plpgsql
set search_path = tally, pg_temp
set enable_seqscan = off
as $fn$
declare
    v_hash bytea := sha256(convert_to(p_name || p_args::text, 'UTF8'));
    r record;
begin
    if not tally._idempotent_key_valid(p_scope, p_key) then
        perform tally.raise_error('TLIA1', 'IDEMPOTENCY_KEY_INVALID',
            'idempotency key must be 1 to 128 printable ASCII characters', 'idempotency_key');
    end if;
    perform pg_advisory_xact_lock(tally._idempotent_lock(p_scope, p_key));
    -- A statement of its own, after the lock: it sees the commit of the call it waited for.
    select t.request_hash, t.outcome into r
      from tally.idempotency_keys t
     where t.scope = coalesce(p_scope, '') and t.key = p_key;
    if not found then
        perform set_config('tally.idempotency_pending', jsonb_build_object(
            'scope', coalesce(p_scope, ''), 'key', p_key,
            'request', encode(v_hash, 'hex'))::text, true);
        return null;
    elsif r.request_hash <> v_hash then
        perform tally.raise_error('TLFP1', 'IDEMPOTENCY_KEY_REUSED',
            'this idempotency key was used with a different request', 'idempotency_key');
    elsif jsonb_typeof(r.outcome) = 'object' and r.outcome->>'error_sqlstate' is not null then
        perform tally.raise_error(r.outcome->>'error_sqlstate', r.outcome->>'error_reason',
            r.outcome->>'error_message', r.outcome->>'error_field', r.outcome->>'error_hint');
    end if;
    perform set_config('tally.idempotency_replayed', 'on', true);
    return r.outcome;
end
$fn$;
