-- record_clicks(banner_ids[], counts[], occurred_ats[], keys[], scopes[]), split: each
-- partition gets the items of the banners it owns (with their keys: a key lives with the
-- click it guards) in one call, atomic there, and the outcome rows come back in input
-- order, as from one database. The parts go one partition after another, each in a
-- subtransaction of its own, so that a partition that cannot be reached fails only its
-- own items: they get 08006 CLICKS_NOT_RECORDED rows (tally._part_unavailable), and the
-- other partitions' items their real outcomes. Keys are claimed on the proxy too
-- (tally._claim_part). An unreachable partition's part may still have been done there
-- (the connection broke after its commit): a retry with the same idempotency keys is
-- answered from the keys then, and done now otherwise.
-- `replayed` as from one database (the partition's; false for an item refused here).
create or replace function clicks._record_clicks_on(
        p_partition integer, p_banner_ids bigint[], p_counts integer[],
        p_occurred_ats timestamptz[], p_idempotency_keys text[], p_idempotency_scopes text[])
returns table (ord integer, banner_id bigint, minute timestamptz, error_sqlstate text,
               error_reason text, error_message text, error_field text, replayed boolean)
language plproxy
as $fn$
    cluster 'tally';
    run on p_partition;
    select * from clicks.record_clicks(p_banner_ids, p_counts, p_occurred_ats,
                                       p_idempotency_keys, p_idempotency_scopes);
$fn$;

create or replace function clicks.record_clicks(p_banner_ids bigint[], p_counts integer[],
                                                p_occurred_ats timestamptz[],
                                                p_idempotency_keys text[] default null,
                                                p_idempotency_scopes text[] default null)
returns table (ord integer, banner_id bigint, minute timestamptz, error_sqlstate text,
               error_reason text, error_message text, error_field text, replayed boolean)
language plpgsql
security definer
set search_path = clicks, pg_temp
as $fn$
declare
    v_partition integer;
    v_ords integer[];
    v_rows jsonb[] := '{}';
    v_state text; v_message text; v_detail text; v_hint text; v_column text;
begin
    for v_partition, v_ords in
        select * from tally._split(p_banner_ids,
                                   array[cardinality(p_counts), cardinality(p_occurred_ats)],
                                   'banner_ids, counts and occurred_ats', p_idempotency_keys,
                                   p_idempotency_scopes) loop
        begin
            if p_idempotency_keys is not null then
                select * into v_rows, v_ords from tally._claim_part(
                    v_rows, v_ords, p_idempotency_scopes, p_idempotency_keys,
                    tally._idempotent_requests('clicks.record_clicks', to_jsonb(tally._pick(p_banner_ids, v_ords)),
                                               to_jsonb(tally._pick(p_counts, v_ords))),
                    array(select jsonb_build_object('banner_id', p_banner_ids[o], 'replayed', false)
                            from unnest(v_ords) o));
                continue when cardinality(v_ords) = 0;
            end if;
            v_rows := v_rows || array(
                select to_jsonb(r) || jsonb_build_object('ord', v_ords[r.ord])
                  from clicks._record_clicks_on(
                           v_partition,
                           tally._pick(p_banner_ids, v_ords),
                           tally._pick(p_counts, v_ords),
                           tally._pick(p_occurred_ats, v_ords),
                           case when p_idempotency_keys is not null
                                then tally._pick(p_idempotency_keys, v_ords) end,
                           case when p_idempotency_scopes is not null
                                then tally._pick(p_idempotency_scopes, v_ords) end) r);
        exception when others then
            get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
                v_detail = pg_exception_detail, v_hint = pg_exception_hint, v_column = column_name;
            v_rows := v_rows || tally._part_unavailable(
                v_state, v_message, v_detail, v_hint, v_column, v_ords, 'CLICKS_NOT_RECORDED',
                'clicks not recorded, retry later',
                array(select jsonb_build_object('banner_id', p_banner_ids[o], 'replayed', false)
                        from unnest(v_ords) o));
        end;
    end loop;
    return query
        select x.*
          from unnest(v_rows) j
         cross join lateral jsonb_to_record(j)
               as x (ord integer, banner_id bigint, minute timestamptz, error_sqlstate text,
                     error_reason text, error_message text, error_field text,
                     replayed boolean)
         order by x.ord;
end
$fn$;

grant execute on function clicks.record_clicks(bigint[], integer[], timestamptz[], text[], text[]) to tally_app;
