-- _idempotent_keep(plan, outcomes): insert the new keys of a keyed batch (see
-- _idempotent_plan): each item that is its key's first (first_ord[i] = i) with its
-- request's hash and outcomes[i], in one statement, in the write's transaction, under the
-- advisory locks the plan took. Returns how many keys it inserted.
-- When every item is the call's own (todo is every item: new keys, none repeated, the
-- usual case) a batch function does them as they are and keeps their rows here in the
-- same statement, with no rebuilt arrays and no jsonb round trip of its answer:
--   return query with done as materialized (select * from <the function>(<its arrays>))
--       select d.* from done d, tally._idempotent_keep(v_plan, array(
--                  select to_jsonb(e) from done e order by e.ord)) k order by d.ord;
-- (PL/pgSQL, not SQL, so that its statement's plan is cached by the session.)
create function tally._idempotent_keep(p_plan tally.idempotent_plan, p_outcomes jsonb[])
returns bigint
language plpgsql
set search_path = tally, pg_temp
as $fn$
declare
    v_count bigint;
begin
    insert into tally.idempotency_keys (scope, key, request_hash, outcome)
    select coalesce(p_plan.scopes[u.n], ''), p_plan.keys[u.n], p_plan.hashes[u.n],
           p_outcomes[u.n]
      from generate_series(1, cardinality(p_plan.first_ord)) u (n)
     where p_plan.first_ord[u.n] = u.n;
    get diagnostics v_count = row_count;
    return v_count;
end
$fn$;
