-- get_banner(banner_id), routed: on the partition that owns the banner (id % N).
create or replace function clicks._get_banner_on(
        p_partition integer,
        p_banner_id bigint)
returns table (id bigint, name text, created_at timestamptz)
language plproxy
as $fn$
    cluster 'tally';
    run on p_partition;
    select * from clicks.get_banner(p_banner_id);
$fn$;

create or replace function clicks.get_banner(
        p_banner_id bigint)
returns table (id bigint, name text, created_at timestamptz)
language plpgsql
security definer
set search_path = clicks, pg_temp
as $fn$
declare
    v_state text; v_message text; v_detail text; v_hint text; v_column text;
begin
    return query select * from clicks._get_banner_on(tally._partition_of(p_banner_id), p_banner_id);
    exception when others then
        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
            v_detail = pg_exception_detail, v_hint = pg_exception_hint, v_column = column_name;
        perform tally._raise_remote(v_state, v_message, v_detail, v_hint, v_column);
end
$fn$;

grant execute on function clicks.get_banner(bigint) to tally_app;
