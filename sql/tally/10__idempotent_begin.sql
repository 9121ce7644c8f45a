-- _idempotent_begin(scope, key, request): a single-call write's key (see
-- _idempotent_begin_batch): null when the key is new and now claimed by this transaction
-- (do the work, then _idempotent_record), else the outcome recorded with it. A key sent
-- with a different request raises TLFP1 IDEMPOTENCY_KEY_REUSED, a malformed key TLIA1
-- IDEMPOTENCY_KEY_INVALID (field idempotency_key).
create function tally._idempotent_begin(p_scope text, p_key text, p_request text)
returns jsonb
language plpgsql
set search_path = tally, pg_temp
as $fn$
declare
    r record;
begin
    select * into strict r
      from tally._idempotent_begin_batch(array[p_scope], array[p_key], array[p_request]);
    if r.error_reason = 'IDEMPOTENCY_KEY_INVALID' then
        perform tally.raise_error('TLIA1', r.error_reason,
            'idempotency key must be 1 to 128 printable ASCII characters', 'idempotency_key');
    elsif r.error_reason = 'IDEMPOTENCY_KEY_REUSED' then
        perform tally.raise_error('TLFP1', r.error_reason,
            'this idempotency key was used with a different request', 'idempotency_key');
    end if;
    return r.outcome;
end
$fn$;
