-- record_clicks(banner_ids[], counts[], occurred_ats[]): add counts[i] clicks of banner
-- banner_ids[i] to the minute (UTC) of occurred_ats[i], as one statement, with an outcome
-- row per item (in input order). An item either counts or gets an error of its own, so one
-- caller's bad item never fails the others' clicks (the gRPC server sends concurrent
-- RecordClick calls here together):
--   TLIA1 BANNER_ID_INVALID (< 1), COUNT_INVALID (< 1), OCCURRED_AT_INVALID (null),
--         OCCURRED_AT_IN_FUTURE (later than now() + settings.max_clock_skew),
--         OCCURRED_AT_TOO_OLD (earlier than now() - settings.ingest_window);
--   TLNF1 BANNER_NOT_FOUND.
-- Valid items are summed per (banner, minute) first and written with one
-- INSERT ... ON CONFLICT DO UPDATE in key order, so concurrent batches cannot deadlock
-- and each row is touched once per batch. The counted minute is in `minute`. `replayed`:
-- the item's key was recorded before or came earlier in the batch, so it counted nothing
-- now and answers that key's outcome.
create function clicks.record_clicks(p_banner_ids bigint[], p_counts integer[],
                                     p_occurred_ats timestamptz[],
                                     p_idempotency_keys text[] default null,
                                     p_idempotency_scopes text[] default null)
returns table (ord integer, banner_id bigint, minute timestamptz, error_sqlstate text,
               error_reason text, error_message text, error_field text, replayed boolean)
language plpgsql
security definer
set search_path = clicks, pg_temp
-- Generic plans: the keyed path's statements were planned anew on every call (custom
-- plans), which cost more than running them.
set plan_cache_mode = force_generic_plan
as $fn$
declare
    v_first integer[];
    v_replays jsonb[];
    v_reasons text[];
    v_hashes bytea[];
    v_todo integer[];
    v_rows jsonb[];
    s clicks.settings;
begin
    if p_idempotency_keys is not null then
        -- Keyed items: a recorded key is answered from its record, a key repeated in the
        -- batch as its first item, a reused one with its error; the rest are done below by
        -- this function without keys, and their keys recorded with their outcomes.
        select * into v_first, v_replays, v_reasons, v_hashes, v_todo
          from tally._idempotent_plan(p_idempotency_scopes, p_idempotency_keys,
                   array(select 'clicks.record_clicks' || jsonb_build_array(p_banner_ids[i], p_counts[i])::text
                           from generate_series(1, cardinality(p_banner_ids)) i order by i));
        if cardinality(v_todo) = cardinality(p_banner_ids) then
            -- Every item is this call's own (new keys, none repeated: the usual case): done
            -- as they are, and each key recorded with its item's row.
            return query
            with done as materialized (
                select * from clicks.record_clicks(p_banner_ids, p_counts, p_occurred_ats)
            ),
            kept as (
                select tally._idempotent_keep(p_idempotency_scopes, p_idempotency_keys, v_first,
                                              v_hashes, array_agg(to_jsonb(d) order by d.ord))
                  from done d
            )
            select d.* from done d cross join kept order by d.ord;
            return;
        end if;
        select array_agg(x.r order by g.n) into v_rows
          from generate_series(1, cardinality(v_reasons)) g (n)
          left join (select v_todo[f.ord] as n, to_jsonb(f) as r
                       from clicks.record_clicks(array(select p_banner_ids[t.n] from unnest(v_todo) with ordinality t (n, i) order by t.i),
                                            array(select p_counts[t.n] from unnest(v_todo) with ordinality t (n, i) order by t.i),
                                            array(select p_occurred_ats[t.n] from unnest(v_todo) with ordinality t (n, i) order by t.i)) f) x on x.n = g.n;
        return query
        select x.*
          from jsonb_to_recordset(tally._idempotent_finish(p_idempotency_scopes, p_idempotency_keys, v_first,
                                        v_replays, v_reasons, v_hashes, v_rows))
               as x (ord integer, banner_id bigint, minute timestamptz, error_sqlstate text, error_reason text, error_message text, error_field text, replayed boolean)
         order by x.ord;
        return;
    end if;
    if cardinality(p_banner_ids) is distinct from cardinality(p_counts)
       or cardinality(p_banner_ids) is distinct from cardinality(p_occurred_ats) then
        perform tally.raise_error('TLIA1', 'BATCH_SHAPE_INVALID',
                                  'banner_ids, counts and occurred_ats must have the same length');
    end if;
    select * into strict s from clicks.settings;

    return query
    with item as (
        select r.ord::integer as ord, r.banner_id, r.count,
               date_bin('1 minute', r.occurred_at, timestamptz '2000-01-01 00:00:00+00') as minute,
               case
                   when r.banner_id is null or r.banner_id < 1 then 'BANNER_ID_INVALID'
                   when r.count is null or r.count < 1 then 'COUNT_INVALID'
                   when r.occurred_at is null or not isfinite(r.occurred_at)
                       then 'OCCURRED_AT_INVALID'
                   when r.occurred_at > now() + s.max_clock_skew then 'OCCURRED_AT_IN_FUTURE'
                   when r.occurred_at < now() - s.ingest_window then 'OCCURRED_AT_TOO_OLD'
                   when b.id is null then 'BANNER_NOT_FOUND'
               end as reason
          from unnest(p_banner_ids, p_counts, p_occurred_ats)
                   with ordinality as r (banner_id, count, occurred_at, ord)
          left join clicks.banners b on b.id = r.banner_id
    ),
    written as (
        -- Always executed (a data-modifying WITH runs whether or not it is read).
        insert into clicks.minute_counts as m (banner_id, minute, clicks)
        select i.banner_id, i.minute, sum(i.count)
          from item i
         where i.reason is null
         group by i.banner_id, i.minute
         order by i.banner_id, i.minute
            on conflict on constraint minute_counts_pkey do update set clicks = m.clicks + excluded.clicks
    )
    select i.ord, i.banner_id, case when i.reason is null then i.minute end,
           case
               when i.reason is null then null
               when i.reason = 'BANNER_NOT_FOUND' then 'TLNF1'
               else 'TLIA1'
           end,
           i.reason,
           case i.reason
               when 'BANNER_ID_INVALID' then 'banner_id must be a positive id'
               when 'COUNT_INVALID' then 'count must be at least 1'
               when 'OCCURRED_AT_INVALID' then 'occurred_at must be a finite time'
               when 'OCCURRED_AT_IN_FUTURE' then
                   format('occurred_at may be at most %s in the future', s.max_clock_skew)
               when 'OCCURRED_AT_TOO_OLD' then
                   format('occurred_at may be at most %s in the past', s.ingest_window)
               when 'BANNER_NOT_FOUND' then format('banner %s not found', i.banner_id)
           end,
           case
               when i.reason in ('BANNER_ID_INVALID', 'BANNER_NOT_FOUND') then 'banner_id'
               when i.reason = 'COUNT_INVALID' then 'count'
               when i.reason like 'OCCURRED_AT%' then 'occurred_at'
           end,
           false
      from item i
     order by i.ord;
end
$fn$;

grant execute on function clicks.record_clicks(bigint[], integer[], timestamptz[], text[], text[]) to tally_app;
