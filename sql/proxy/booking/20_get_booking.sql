-- get_booking(booking_id), routed: on the partition that owns the booking (id % N; a
-- booking sits with its event).
create or replace function booking._get_booking_on(
        p_partition integer,
        p_booking_id bigint)
returns table (id bigint, event_id bigint, user_id text, created_at timestamptz,
               event_name text, total_seats integer, available_seats integer)
language plproxy
as $fn$
    cluster 'tally';
    run on p_partition;
    select * from booking.get_booking(p_booking_id);
$fn$;

create or replace function booking.get_booking(
        p_booking_id bigint)
returns table (id bigint, event_id bigint, user_id text, created_at timestamptz,
               event_name text, total_seats integer, available_seats integer)
language plpgsql
security definer
set search_path = booking, pg_temp
as $fn$
declare
    v_state text; v_message text; v_detail text; v_hint text; v_column text;
begin
    return query select * from booking._get_booking_on(tally._partition_of(p_booking_id), p_booking_id);
    exception when others then
        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
            v_detail = pg_exception_detail, v_hint = pg_exception_hint, v_column = column_name;
        perform tally._raise_remote(v_state, v_message, v_detail, v_hint, v_column);
end
$fn$;

grant execute on function booking.get_booking(bigint) to tally_app;
