-- _pick(values, ords): the elements of `values` at the positions `ords` (1-based), in the
-- order of `ords`: one part of a batch's argument array (the items a keyed batch does
-- itself, the items the proxy sends to one partition). A position past the end gives null.
-- (PL/pgSQL, not SQL, so that its statement's plan is cached by the session.)
create function tally._pick(p_values anyarray, p_ords integer[])
returns anyarray
language plpgsql
immutable
parallel safe
as $fn$
begin
    return array(select p_values[o.n] from unnest(p_ords) with ordinality o (n, i) order by o.i);
end
$fn$;
