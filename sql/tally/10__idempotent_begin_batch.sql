-- _idempotent_begin_batch(scopes[], keys[], requests[]): claim the idempotency keys of a
-- batch of writes, in the same transaction as the writes. requests[i] is a canonical text
-- of item i's request (the function's name and its arguments as JSON); its SHA-256 is
-- what a later call with the key must match. One row per item, in input order:
--   key null:                      first_ord, outcome, error_reason all null (no key: work)
--   key new (claimed now):         first_ord = ord (do the work, then _idempotent_record)
--   key repeated in the batch:     first_ord = the first item with it (answer as that one)
--   key recorded before:           outcome = the recorded outcome (answer it, do nothing)
--   a different request, same key: error_reason IDEMPOTENCY_KEY_REUSED
--   a key not 1-128 printable ASCII: error_reason IDEMPOTENCY_KEY_INVALID
-- Keys are inserted in (scope, key) order before the work takes any other lock. A key
-- another transaction claimed but has not committed makes the insert wait; once that one
-- commits, its recorded outcome is answered here (once it rolls back, the key is ours).
create function tally._idempotent_begin_batch(p_scopes text[], p_keys text[], p_requests text[])
returns table (ord integer, first_ord integer, outcome jsonb, error_reason text)
language plpgsql
set search_path = tally, pg_temp
as $fn$
declare
    v_claimed_scopes text[];
    v_claimed_keys text[];
begin
    -- Claim first, in a statement of its own: a key whose first transaction this insert
    -- waited for is then read below by a statement that sees that transaction's commit.
    with claimed as (
        insert into tally.idempotency_keys as t (scope, key, request_hash)
        select distinct on (coalesce(u.s, ''), u.k) coalesce(u.s, ''), u.k,
               sha256(convert_to(u.req, 'UTF8'))
          from unnest(p_scopes, p_keys, p_requests) with ordinality u (s, k, req, n)
         where u.k ~ '^[ -~]+$' and octet_length(u.k) <= 128
           and char_length(coalesce(u.s, '')) <= 128
         order by coalesce(u.s, ''), u.k, u.n
            on conflict on constraint idempotency_keys_pkey do nothing
        returning t.scope, t.key
    )
    select array_agg(c.scope), array_agg(c.key) into v_claimed_scopes, v_claimed_keys
      from claimed c;

    return query
    with item as (
        select u.n::integer as n, coalesce(u.s, '') as s, u.k,
               sha256(convert_to(u.req, 'UTF8')) as h,
               u.k ~ '^[ -~]+$' and octet_length(u.k) <= 128
                   and char_length(coalesce(u.s, '')) <= 128 as valid
          from unnest(p_scopes, p_keys, p_requests) with ordinality u (s, k, req, n)
    ),
    first as (
        select distinct on (i.s, i.k) i.s, i.k, i.n
          from item i
         where i.valid
         order by i.s, i.k, i.n
    )
    select i.n,
           case when cl.key is not null and i.h = t.request_hash then f.n end,
           case when cl.key is null and i.h = t.request_hash then t.outcome end,
           case
               when i.k is null then null
               when not i.valid then 'IDEMPOTENCY_KEY_INVALID'
               when i.h <> t.request_hash then 'IDEMPOTENCY_KEY_REUSED'
           end
      from item i
      left join first f on f.s = i.s and f.k = i.k
      left join tally.idempotency_keys t on i.valid and t.scope = i.s and t.key = i.k
      left join unnest(v_claimed_scopes, v_claimed_keys) cl (scope, key)
             on cl.scope = i.s and cl.key = i.k
     order by i.n;
end
$fn$;
