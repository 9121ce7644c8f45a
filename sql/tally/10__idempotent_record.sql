-- _idempotent_record(outcome): record the key _idempotent_claim claimed last in this
-- transaction with the outcome of its work: the scope, the key and the request's hash are
-- those of the transaction's tally.idempotency_pending (see _idempotent_claim), recorded
-- with the outcome in one INSERT (so a key is never seen without its outcome). Clears
-- the setting, and returns the outcome. Called with no key pending, it raises.
-- (PL/pgSQL, not SQL, so that its statement's plan is cached by the session.)
create function tally._idempotent_record(p_outcome jsonb)
returns jsonb
language plpgsql
set search_path = tally, pg_temp
as $fn$
declare
    v_pending jsonb := nullif(current_setting('tally.idempotency_pending', true), '')::jsonb;
begin
    if v_pending is null then
        raise exception 'tally._idempotent_record: no idempotency key claimed in this transaction';
    end if;
    insert into tally.idempotency_keys (scope, key, request_hash, outcome)
    values (v_pending->>'scope', v_pending->>'key', decode(v_pending->>'request', 'hex'),
            p_outcome);
    perform set_config('tally.idempotency_pending', '', true);
    return p_outcome;
end
$fn$;
