-- _idempotent_requests(name, columns...): the canonical text of each item's request in a
-- keyed batch (what tally._idempotent_plan hashes): the function's name followed by the
-- item's arguments as a JSON array, `name[arg1, arg2, ...]`. Each column is one argument,
-- as a JSON array with an element per item (to_jsonb of the argument array); the first
-- column says how many items there are, and an item missing from a shorter one is null.
-- (PL/pgSQL, not SQL, so that its statement's plan is cached by the session.)
create function tally._idempotent_requests(p_name text, variadic p_columns jsonb[])
returns text[]
language plpgsql
immutable
parallel safe
as $fn$
begin
    return array(select p_name || (select jsonb_agg(c.v -> g.i order by c.k)
                                     from unnest(p_columns) with ordinality c (v, k))::text
                   from generate_series(0, jsonb_array_length(p_columns[1]) - 1) g (i)
                  order by g.i);
end
$fn$;
