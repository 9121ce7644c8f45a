-- get_event(event_id), routed: on the partition that owns the event (id % N).
create or replace function booking._get_event_on(
        p_partition integer,
        p_event_id bigint)
returns table (id bigint, name text, total_seats integer, available_seats integer)
language plproxy
as $fn$
    cluster 'tally';
    run on p_partition;
    select * from booking.get_event(p_event_id);
$fn$;

create or replace function booking.get_event(
        p_event_id bigint)
returns table (id bigint, name text, total_seats integer, available_seats integer)
language plpgsql
security definer
set search_path = booking, pg_temp
as $fn$
declare
    v_state text; v_message text; v_detail text; v_hint text; v_column text;
begin
    return query select * from booking._get_event_on(tally._partition_of(p_event_id), p_event_id);
    exception when others then
        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
            v_detail = pg_exception_detail, v_hint = pg_exception_hint, v_column = column_name;
        perform tally._raise_remote(v_state, v_message, v_detail, v_hint, v_column);
end
$fn$;

grant execute on function booking.get_event(bigint) to tally_app;
