-- stats(banner_id, ts_from, ts_to), routed: on the partition that owns the banner.
create or replace function clicks._stats_on(
        p_partition integer,
        p_banner_id bigint,
        p_from timestamptz,
        p_to timestamptz)
returns table (minute timestamptz, clicks bigint)
language plproxy
as $fn$
    cluster 'tally';
    run on p_partition;
    select * from clicks.stats(p_banner_id, p_from, p_to);
$fn$;

create or replace function clicks.stats(
        p_banner_id bigint,
        p_from timestamptz,
        p_to timestamptz)
returns table (minute timestamptz, clicks bigint)
language plpgsql
security definer
set search_path = clicks, pg_temp
as $fn$
declare
    v_state text; v_message text; v_detail text; v_hint text; v_column text;
begin
    return query select * from clicks._stats_on(tally._partition_of(p_banner_id), p_banner_id, p_from, p_to);
    exception when others then
        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
            v_detail = pg_exception_detail, v_hint = pg_exception_hint, v_column = column_name;
        perform tally._raise_remote(v_state, v_message, v_detail, v_hint, v_column);
end
$fn$;

grant execute on function clicks.stats(bigint, timestamptz, timestamptz) to tally_app;
