-- _idempotent_plan(scopes, keys, requests): the first half of a keyed batch, for the batch
-- write functions (reserve_seats, record_clicks, create_orders). requests[i] is a
-- canonical text of item i's request (the function's name and its arguments as JSON); its
-- SHA-256 is what a later call with the key must match. Locks every key of the batch
-- (_idempotent_lock, in lock order, so concurrent batches cannot deadlock: a key another
-- transaction holds makes this wait until it commits or rolls back), then reads the keys
-- already recorded, in one statement, and returns the batch's plan (tally.idempotent_plan):
-- its scopes and keys, and per item (1-based, in input order):
--   first_ord: for a new key, the first item of the batch with it (the item that does the
--              work; the others answer as it); null without a key;
--   replays:   the outcome recorded with the key (answer it, do nothing);
--   reasons:   an error of the key itself: IDEMPOTENCY_KEY_REUSED (the key was recorded,
--              or is first in this batch, with a different request), IDEMPOTENCY_KEY_INVALID;
--   hashes:    the request's SHA-256, recorded with a new key;
--   todo:      the items this call must do itself (no key, or a new key's first item).
-- Nothing is written here: after the work, _idempotent_finish (or, when todo is every item,
-- _idempotent_keep) inserts each new key once, with its outcome. A batch function does
-- the items of todo (tally._pick of each argument array) by calling itself without keys.
-- The recorded keys are looked up one by one through the primary key, whatever the
-- table's statistics say: a batch's handful of keys against a table of a day's keys. A
-- plan made while the table was empty or never analyzed (a new database; autovacuum off
-- or not yet run) would otherwise hash-join a full scan of it and keep doing so, cached
-- in every session, as the table grows (lateral with limit 1: a lookup per item; no
-- sequential scan: by the index even when the table looks empty).
create function tally._idempotent_plan(p_scopes text[], p_keys text[], p_requests text[])
returns tally.idempotent_plan
language plpgsql
set search_path = tally, pg_temp
set enable_seqscan = off
as $fn$
declare
    v_plan tally.idempotent_plan;
begin
    if cardinality(p_keys) is distinct from cardinality(p_requests)
       or (p_scopes is not null
           and cardinality(p_scopes) is distinct from cardinality(p_requests)) then
        perform tally.raise_error('TLIA1', 'BATCH_SHAPE_INVALID',
            'idempotency_keys and idempotency_scopes must have one entry per item');
    end if;
    perform pg_advisory_xact_lock(l.id)
       from (select distinct tally._idempotent_lock(u.s, u.k) as id
               from unnest(p_scopes, p_keys) u (s, k)
              where u.k is not null
              order by 1) l;
    -- A statement of its own, after the locks: it sees the commits of the calls it waited for.
    with item as (
        select u.n::integer as n, coalesce(u.s, '') as s, u.k,
               sha256(convert_to(u.req, 'UTF8')) as h,
               tally._idempotent_key_valid(u.s, u.k) as valid
          from unnest(p_scopes, p_keys, p_requests) with ordinality u (s, k, req, n)
    ),
    first as (
        select distinct on (i.s, i.k) i.s, i.k, i.n, i.h
          from item i
         where i.valid
         order by i.s, i.k, i.n
    ),
    planned as (
        select i.n, i.h,
               case when t.key is null and i.h = f.h then f.n end as first_ord,
               case when i.h = t.request_hash then t.outcome end as replay,
               case
                   when i.k is null then null
                   when not i.valid then 'IDEMPOTENCY_KEY_INVALID'
                   when i.h <> coalesce(t.request_hash, f.h) then 'IDEMPOTENCY_KEY_REUSED'
               end as reason
          from item i
          left join first f on f.s = i.s and f.k = i.k
          left join lateral (select k.key, k.request_hash, k.outcome
                               from tally.idempotency_keys k
                              where i.valid and k.scope = i.s and k.key = i.k
                              limit 1) t on true
         order by i.n
    )
    -- (one sort, above, for all five arrays: the aggregates read the rows in its order)
    select array_agg(p.first_ord), array_agg(p.replay), array_agg(p.reason), array_agg(p.h),
           coalesce(array_agg(p.n) filter (where p.reason is null and p.replay is null
                                             and coalesce(p.first_ord, p.n) = p.n), '{}')
      into v_plan.first_ord, v_plan.replays, v_plan.reasons, v_plan.hashes, v_plan.todo
      from planned p;
    v_plan.scopes := p_scopes;
    v_plan.keys := p_keys;
    return v_plan;
end
$fn$;
