-- ingest_clicks(banner_ids[], counts[], occurred_ats[]): bulk ingest for edge aggregators,
-- all or nothing. Entry i adds counts[i] clicks of banner_ids[i] to the minute (UTC) of
-- occurred_ats[i] (null: now()). Same rules as record_clicks; the first bad entry fails
-- the whole call and nothing of it counts. Its error names the entry (0-based, as in the
-- RecordClicks request): field `clicks[3].count`, message `clicks[3]: ...`:
--   TLIA1 BANNER_ID_INVALID, COUNT_INVALID, OCCURRED_AT_IN_FUTURE, OCCURRED_AT_TOO_OLD,
--         BATCH_SHAPE_INVALID, TOO_MANY_CLICKS (more than 10,000 entries);
--   TLNF1 BANNER_NOT_FOUND.
-- Returns the number of clicks accepted (the sum of counts).
create function clicks.ingest_clicks(p_banner_ids bigint[], p_counts integer[],
                                     p_occurred_ats timestamptz[],
                                     p_idempotency_key text default null,
                                     p_idempotency_scope text default '')
returns bigint
language plpgsql
security definer
set search_path = clicks, pg_temp
as $fn$
declare
    bad record;
begin
    if p_idempotency_key is not null then
        return (coalesce(tally._idempotent_claim(p_idempotency_scope, p_idempotency_key, 'clicks.ingest_clicks', jsonb_build_array(p_banner_ids, p_counts, p_occurred_ats)),
                         tally._idempotent_record(to_jsonb(clicks.ingest_clicks(p_banner_ids, p_counts, p_occurred_ats)))) #>> '{}')::bigint;
    end if;
    if cardinality(p_banner_ids) > 10000 then
        perform tally.raise_error('TLIA1', 'TOO_MANY_CLICKS',
                                  'at most 10000 entries per call', 'clicks');
    end if;
    -- record_clicks writes the good entries; raising below undoes them with the rest.
    select r.ord, r.error_sqlstate, r.error_reason, r.error_message, r.error_field
      into bad
      from clicks.record_clicks(
               p_banner_ids, p_counts,
               array(select coalesce(t, now()) from unnest(p_occurred_ats) with ordinality u (t, n)
                      order by n)) r
     where r.error_sqlstate is not null
     order by r.ord
     limit 1;
    if found then
        perform tally.raise_error(bad.error_sqlstate, bad.error_reason,
                                  format('clicks[%s]: %s', bad.ord - 1, bad.error_message),
                                  format('clicks[%s].%s', bad.ord - 1, bad.error_field));
    end if;
    return coalesce((select sum(c) from unnest(p_counts) c), 0);
end
$fn$;

grant execute on function clicks.ingest_clicks(bigint[], integer[], timestamptz[], text, text) to tally_app;
