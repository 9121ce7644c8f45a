-- _idempotent_plan(scopes, keys, requests): the first half of a keyed batch, for the batch
-- write functions (reserve_seats, record_clicks, create_orders). Checks one key (and one
-- scope, if given) per item, claims the keys (_idempotent_begin_batch), and says per item
-- (1-based, in input order): first_ord, the first item of the batch with the same key;
-- replays, a recorded outcome to answer; reasons, an error of the key itself; and todo,
-- the items this call must do itself (new keys, each key's first item), in order.
create function tally._idempotent_plan(
    p_scopes text[], p_keys text[], p_requests text[],
    out first_ord integer[], out replays jsonb[], out reasons text[], out todo integer[])
language plpgsql
set search_path = tally, pg_temp
as $fn$
begin
    if cardinality(p_keys) is distinct from cardinality(p_requests)
       or (p_scopes is not null
           and cardinality(p_scopes) is distinct from cardinality(p_requests)) then
        perform tally.raise_error('TLIA1', 'BATCH_SHAPE_INVALID',
            'idempotency_keys and idempotency_scopes must have one entry per item');
    end if;
    select array_agg(b.first_ord order by b.ord), array_agg(b.outcome order by b.ord),
           array_agg(b.error_reason order by b.ord)
      into first_ord, replays, reasons
      from tally._idempotent_begin_batch(p_scopes, p_keys, p_requests) b;
    todo := array(select n from generate_series(1, cardinality(reasons)) n
                   where reasons[n] is null and replays[n] is null
                     and coalesce(first_ord[n], n) = n
                   order by n);
end
$fn$;
