-- _idempotent_keep(scopes, keys, first_ord, hashes, outcomes): insert the new keys of a
-- keyed batch (see _idempotent_plan): each item that is its key's first (first_ord[i] = i)
-- with its request's hash and outcomes[i], in one statement, in the write's transaction,
-- under the advisory locks the plan took. Returns how many keys it inserted.
-- (PL/pgSQL, not SQL, so that its statement's plan is cached by the session.)
create function tally._idempotent_keep(p_scopes text[], p_keys text[], p_first integer[],
                                       p_hashes bytea[], p_outcomes jsonb[])
returns bigint
language plpgsql
set search_path = tally, pg_temp
as $fn$
declare
    v_count bigint;
begin
    insert into tally.idempotency_keys (scope, key, request_hash, outcome)
    select coalesce(p_scopes[u.n], ''), p_keys[u.n], p_hashes[u.n], p_outcomes[u.n]
      from generate_series(1, cardinality(p_first)) u (n)
     where p_first[u.n] = u.n;
    get diagnostics v_count = row_count;
    return v_count;
end
$fn$;
