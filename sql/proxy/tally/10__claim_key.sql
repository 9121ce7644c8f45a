-- _claim_key(scope, key, name, args): the proxy's own claim of a single call's key, before
-- the call goes to its partition, which records the key with the write and replays it.
-- Claimed under the key's advisory lock (tally._idempotent_claim, which builds the
-- request's text from the function's name and its arguments: a key sent before with
-- another request raises TLFP1 IDEMPOTENCY_KEY_REUSED, a malformed one TLIA1
-- IDEMPOTENCY_KEY_INVALID) and, the first time, recorded on the proxy with a null outcome
-- (tally._idempotent_record): the outcome itself is the partition's. The record is a row
-- of the caller's transaction: a call that fails takes it back. A batch claims with
-- tally._claim_keys.
create or replace function tally._claim_key(p_scope text, p_key text, p_name text,
                                            p_args jsonb)
returns void
language plpgsql
as $fn$
begin
    if tally._idempotent_claim(p_scope, p_key, p_name, p_args) is null then
        perform tally._idempotent_record('null'::jsonb);
    end if;
end
$fn$;
