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
    if p_booking_id is null or p_booking_id < 1 then
        perform tally.raise_error('TLIA1', 'BOOKING_ID_INVALID', 'booking_id must be a positive id', 'booking_id');
    end if;
    delete from booking.bookings b where b.id = p_booking_id returning b.event_id into v_event_id;
    if v_event_id is null then
        perform tally.raise_error('TLNF1', 'BOOKING_NOT_FOUND',
                                  format('booking %s not found', p_booking_id), 'booking_id');
    end if;
    return v_event_id;
end
$fn$;

grant execute on function booking.cancel_booking(bigint) to tally_app;
