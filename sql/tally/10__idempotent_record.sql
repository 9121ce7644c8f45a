-- _idempotent_record(scope, key, request, outcome): record a single-call write's key, claimed
-- by _idempotent_claim in this transaction, with the request's hash and the outcome, in
-- one INSERT (so a key is never seen without its outcome). Returns the outcome.
create function tally._idempotent_record(p_scope text, p_key text, p_request text,
                                         p_outcome jsonb)
returns jsonb
language sql
set search_path = tally, pg_temp
begin atomic
    insert into tally.idempotency_keys (scope, key, request_hash, outcome)
    values (coalesce(p_scope, ''), p_key, sha256(convert_to(p_request, 'UTF8')), p_outcome)
    returning outcome;
end;
