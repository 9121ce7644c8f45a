-- _claim_keys(scopes[], keys[], requests[]): the proxy's own claim of a keyed batch's keys
-- (tally._idempotent_plan on the proxy's tally.idempotency_keys, under the keys' advisory
-- locks), before its items go to their partitions, which record the keys with the writes
-- and replay them. The partitions alone could not refuse a key reused with another
-- request when the two requests went to different partitions; the proxy sees every keyed
-- write, so it can. Each new key is recorded on the proxy with a null outcome (the
-- outcome is the partition's). One row per item whose key is refused: ord,
-- error_sqlstate, error_reason, error_message, error_field, as the partitions' outcome
-- rows have them. The records are rows of the caller's transaction: a call that fails
-- takes them back. A single call's wrapper claims with tally._claim_key instead.
create or replace function tally._claim_keys(p_scopes text[], p_keys text[], p_requests text[])
returns table (ord integer, error_sqlstate text, error_reason text, error_message text,
               error_field text)
language plpgsql
as $fn$
declare
    v_plan tally.idempotent_plan;
begin
    v_plan := tally._idempotent_plan(p_scopes, p_keys, p_requests);
    perform tally._idempotent_keep(v_plan, array_fill('null'::jsonb, array[cardinality(v_plan.first_ord)]));
    return query
        select r.n::integer,
               case r.reason when 'IDEMPOTENCY_KEY_REUSED' then 'TLFP1' else 'TLIA1' end,
               r.reason,
               case r.reason
                   when 'IDEMPOTENCY_KEY_REUSED'
                       then 'this idempotency key was used with a different request'
                   else 'idempotency key must be 1 to 128 printable ASCII characters'
               end,
               'idempotency_key'
          from unnest(v_plan.reasons) with ordinality r (reason, n)
         where r.reason is not null
         order by r.n;
end
$fn$;
