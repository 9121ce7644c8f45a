-- _claim_keys(scopes[], keys[], requests[]): the proxy's own claim of a keyed batch's keys
-- (tally._idempotent_begin_batch on the proxy's tally.idempotency_keys), before its items
-- go to their partitions, which record the keys with the writes and replay them. The
-- partitions alone could not refuse a key reused with another request when the two
-- requests went to different partitions; the proxy sees every keyed write, so it can.
-- One row per item whose key is refused: ord, error_sqlstate, error_reason, error_message,
-- error_field, as the partitions' outcome rows have them (and _idempotent_finish words
-- them). The claims are rows of the caller's transaction: a call that fails takes them
-- back. A single call's wrapper claims with tally._idempotent_begin instead.
create or replace function tally._claim_keys(p_scopes text[], p_keys text[], p_requests text[])
returns table (ord integer, error_sqlstate text, error_reason text, error_message text,
               error_field text)
language sql
as $fn$
    select b.ord,
           case b.error_reason when 'IDEMPOTENCY_KEY_REUSED' then 'TLFP1' else 'TLIA1' end,
           b.error_reason,
           case b.error_reason
               when 'IDEMPOTENCY_KEY_REUSED'
                   then 'this idempotency key was used with a different request'
               else 'idempotency key must be 1 to 128 printable ASCII characters'
           end,
           'idempotency_key'
      from tally._idempotent_begin_batch(p_scopes, p_keys, p_requests) b
     where b.error_reason is not null
$fn$;
