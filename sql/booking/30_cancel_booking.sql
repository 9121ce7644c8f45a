-- cancel_booking(booking_id): delete the booking; its seat is free again (the trigger
-- gives it back to the event). Returns the event's id.
-- TLNF1 BOOKING_NOT_FOUND, TLIA1 BOOKING_ID_INVALID.
create function booking.cancel_booking(p_booking_id bigint)
returns bigint
language plpgsql
security definer
set search_path = booking, pg_temp
as $fn$
declare
    v_event_id bigint;
begin
    perform tally.check_id(p_booking_id, 'booking_id');
    delete from booking.bookings b where b.id = p_booking_id returning b.event_id into v_event_id;
    if v_event_id is null then
        perform tally.raise_not_found('booking', p_booking_id);
    end if;
    return v_event_id;
end
$fn$;

grant execute on function booking.cancel_booking(bigint) to tally_app;
