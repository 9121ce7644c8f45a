-- _idempotent_record(scope, key, request, outcome): record a single-call write's key, claimed
-- by _idempotent_claim in this transaction, with the request's hash and the outcome, in
-- one INSERT (so a key is never seen without its outcome), and clears the transaction's
-- tally.idempotency_pending (see _idempotent_claim). Returns the outcome.
-- (PL/pgSQL, not SQL, so that its statement's plan is cached by the session.)
create function tally._idempotent_record(p_scope text, p_key text, p_request text,
                                         p_outcome jsonb)
returns jsonb
language plpgsql
set search_path = tally, pg_temp
as $fn$
begin
    insert into tally.idempotency_keys (scope, key, request_hash, outcome)
    values (coalesce(p_scope, ''), p_key, sha256(convert_to(p_request, 'UTF8')), p_outcome);
    perform set_config('tally.idempotency_pending', '', true);
    return p_outcome;
end
$fn$;
