-- _idempotent_finish(scopes, keys, first_ord, replays, reasons, hashes, done): the
-- second half of a keyed batch (see _idempotent_plan). `done` holds, at each item of the
-- plan's `todo`, the outcome row (as jsonb) the function computed for it. Inserts each new
-- key once, with its request's hash and its first item's outcome (_idempotent_keep), and
-- returns one outcome per item, in input order, as one jsonb array (the caller reads it
-- with a single jsonb_to_recordset) of objects with their 'ord': the recorded outcome for
-- a replay, the first item's for a key repeated in the batch, an error for a key reused
-- with another request or not valid; 'replayed' is true when the item did nothing itself
-- (its key was recorded before, or came earlier in the batch).
create function tally._idempotent_finish(
    p_scopes text[], p_keys text[], p_first integer[], p_replays jsonb[], p_reasons text[],
    p_hashes bytea[], p_done jsonb[])
returns jsonb
language plpgsql
set search_path = tally, pg_temp
as $fn$
begin
    perform tally._idempotent_keep(p_scopes, p_keys, p_first, p_hashes, p_done);
    return jsonb_agg(case
               when p_reasons[g.n] = 'IDEMPOTENCY_KEY_REUSED' then jsonb_build_object(
                   'error_sqlstate', 'TLFP1', 'error_reason', p_reasons[g.n],
                   'error_message', 'this idempotency key was used with a different request',
                   'error_field', 'idempotency_key')
               when p_reasons[g.n] is not null then jsonb_build_object(
                   'error_sqlstate', 'TLIA1', 'error_reason', p_reasons[g.n],
                   'error_message', 'idempotency key must be 1 to 128 printable ASCII characters',
                   'error_field', 'idempotency_key')
               else coalesce(p_replays[g.n], p_done[coalesce(p_first[g.n], g.n)])
           end || jsonb_build_object('ord', g.n, 'replayed',
                                     p_replays[g.n] is not null or coalesce(p_first[g.n] <> g.n, false))
           order by g.n)
      from generate_series(1, cardinality(p_reasons)) g (n);
end
$fn$;
