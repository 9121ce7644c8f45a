-- _idempotent_finish(plan, done): the second half of a keyed batch (see _idempotent_plan)
-- when some items are not the call's own. `done` holds the outcome rows (as jsonb) the
-- function computed for the plan's `todo` items, called on them alone: the row whose
-- 'ord' is k is item todo[k]'s. Inserts each new key once, with its request's hash and its
-- first item's outcome (_idempotent_keep), and returns one outcome per item, in input
-- order, as one jsonb array (the caller reads it with a single jsonb_to_recordset) of
-- objects with their 'ord': the recorded outcome for a replay, the first item's for a key
-- repeated in the batch, an error for a key reused with another request or not valid;
-- 'replayed' is true when the item did nothing itself (its key was recorded before, or
-- came earlier in the batch).
create function tally._idempotent_finish(p_plan tally.idempotent_plan, p_done jsonb[])
returns jsonb
language plpgsql
set search_path = tally, pg_temp
as $fn$
declare
    v_done jsonb[];
begin
    -- Each todo item's row at the item's own place.
    select array_agg(x.r order by g.n) into v_done
      from generate_series(1, cardinality(p_plan.reasons)) g (n)
      left join (select p_plan.todo[(d.r ->> 'ord')::integer] as n, d.r
                   from unnest(p_done) d (r)) x on x.n = g.n;
    perform tally._idempotent_keep(p_plan, v_done);
    return jsonb_agg(case
               when p_plan.reasons[g.n] = 'IDEMPOTENCY_KEY_REUSED' then jsonb_build_object(
                   'error_sqlstate', 'TLFP1', 'error_reason', p_plan.reasons[g.n],
                   'error_message', 'this idempotency key was used with a different request',
                   'error_field', 'idempotency_key')
               when p_plan.reasons[g.n] is not null then jsonb_build_object(
                   'error_sqlstate', 'TLIA1', 'error_reason', p_plan.reasons[g.n],
                   'error_message', 'idempotency key must be 1 to 128 printable ASCII characters',
                   'error_field', 'idempotency_key')
               else coalesce(p_plan.replays[g.n], v_done[coalesce(p_plan.first_ord[g.n], g.n)])
           end || jsonb_build_object('ord', g.n, 'replayed',
                                     p_plan.replays[g.n] is not null
                                     or coalesce(p_plan.first_ord[g.n] <> g.n, false))
           order by g.n)
      from generate_series(1, cardinality(p_plan.reasons)) g (n);
end
$fn$;
