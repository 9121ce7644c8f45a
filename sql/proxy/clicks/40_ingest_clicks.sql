-- ingest_clicks(banner_ids[], counts[], occurred_ats[], key, scope), split: each partition
-- gets the entries of the banners it owns, in one call that is all or nothing there (and
-- records the key with its part, so a retry replays each part that was done). Partitions
-- are called one after another; the first part that fails stops the call with its error,
-- naming the entry as the caller numbered it (clicks[i]). What sharding changes: the
-- parts of partitions called before the failing one are committed; a bad entry fails
-- only the parts from its partition on. Callers who send one partition's banners per call
-- (edge aggregators sharded the same way) keep all or nothing.
create or replace function clicks._ingest_clicks_on(
        p_partition integer, p_banner_ids bigint[], p_counts integer[],
        p_occurred_ats timestamptz[], p_idempotency_key text, p_idempotency_scope text)
returns bigint
language plproxy
as $fn$
    cluster 'tally';
    run on p_partition;
    select clicks.ingest_clicks(p_banner_ids, p_counts, p_occurred_ats, p_idempotency_key,
                                p_idempotency_scope);
$fn$;

create or replace function clicks.ingest_clicks(p_banner_ids bigint[], p_counts integer[],
                                                p_occurred_ats timestamptz[],
                                                p_idempotency_key text default null,
                                                p_idempotency_scope text default '')
returns bigint
language plpgsql
security definer
set search_path = clicks, pg_temp
as $fn$
declare
    v_partition integer;
    v_ords integer[];
    v_total bigint := 0;
    v_state text; v_message text; v_detail text; v_hint text; v_column text;
begin
    if p_idempotency_key is not null then
        -- The key's claim on the proxy too (see tally._claim_keys): a key reused with
        -- another batch is refused here; a failed call takes the claim back.
        perform tally._claim_key(p_idempotency_scope, p_idempotency_key,
            'clicks.ingest_clicks', jsonb_build_array(p_banner_ids, p_counts, p_occurred_ats));
    end if;
    if cardinality(p_banner_ids) > 10000 then
        perform tally.raise_error('TLIA1', 'TOO_MANY_CLICKS',
                                  'at most 10000 entries per call', 'clicks');
    end if;
    for v_partition, v_ords in
        select * from tally._split(p_banner_ids,
                                   array[cardinality(p_counts), cardinality(p_occurred_ats)],
                                   'banner_ids, counts and occurred_ats') loop
        begin
            v_total := v_total + clicks._ingest_clicks_on(
                v_partition,
                tally._pick(p_banner_ids, v_ords),
                tally._pick(p_counts, v_ords),
                tally._pick(p_occurred_ats, v_ords),
                p_idempotency_key, p_idempotency_scope);
        exception when others then
            get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
                v_detail = pg_exception_detail, v_hint = pg_exception_hint, v_column = column_name;
            perform tally._raise_remote(v_state, v_message, v_detail, v_hint, v_column, v_ords);
        end;
    end loop;
    return v_total;
end
$fn$;

grant execute on function clicks.ingest_clicks(bigint[], integer[], timestamptz[], text, text) to tally_app;
