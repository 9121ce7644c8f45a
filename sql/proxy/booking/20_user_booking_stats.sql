-- user_booking_stats(user_id), summed: a user's bookings sit with their events, on any
-- partition, so every partition counts its own (RUN ON ALL, in parallel) and this adds
-- them up. A bad user_id gets each partition's identical error, raised once.
create or replace function booking._user_booking_stats_on_all(p_user_id text)
returns table (user_id text, bookings_count bigint)
language plproxy
as $fn$
    cluster 'tally';
    run on all;
    select * from booking.user_booking_stats(p_user_id);
$fn$;

create or replace function booking.user_booking_stats(p_user_id text)
returns table (user_id text, bookings_count bigint)
language plpgsql
security definer
set search_path = booking, pg_temp
as $fn$
declare
    v_state text; v_message text; v_detail text; v_hint text; v_column text;
begin
    return query
        select p_user_id, coalesce(sum(s.bookings_count), 0)::bigint
          from booking._user_booking_stats_on_all(p_user_id) s;
    exception when others then
        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
            v_detail = pg_exception_detail, v_hint = pg_exception_hint, v_column = column_name;
        perform tally._raise_remote(v_state, v_message, v_detail, v_hint, v_column);
end
$fn$;

grant execute on function booking.user_booking_stats(text) to tally_app;
