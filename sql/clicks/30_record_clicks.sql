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
    v_plan tally.idempotent_plan;
    s clicks.settings;
begin
    if p_idempotency_keys is not null then
        -- Keyed items (see tally._idempotent_plan): done by this function without keys,
        -- every item at once when none is answered from its key (the usual case).
        v_plan := tally._idempotent_plan(p_idempotency_scopes, p_idempotency_keys,
                      tally._idempotent_requests('clicks.record_clicks', to_jsonb(p_banner_ids), to_jsonb(p_counts)));
        if cardinality(v_plan.todo) = cardinality(p_banner_ids) then
            return query with done as materialized (select * from clicks.record_clicks(p_banner_ids, p_counts, p_occurred_ats))
                select d.* from done d, tally._idempotent_keep(v_plan, array(select to_jsonb(e) from done e order by e.ord)) k
                 order by d.ord;
        else
            return query select x.* from jsonb_to_recordset(tally._idempotent_finish(v_plan, array(
                    select to_jsonb(f) from clicks.record_clicks(tally._pick(p_banner_ids, v_plan.todo),
                                                                 tally._pick(p_counts, v_plan.todo),
                                                                 tally._pick(p_occurred_ats, v_plan.todo)) f)))
                as x (ord integer, banner_id bigint, minute timestamptz, error_sqlstate text, error_reason text, error_message text, error_field text, replayed boolean)
                 order by x.ord;
        end if;
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
