-- get_booking(booking_id): the booking with its event.
-- TLNF1 BOOKING_NOT_FOUND, TLIA1 BOOKING_ID_INVALID.
create function booking.get_booking(p_booking_id bigint)
returns table (id bigint, event_id bigint, user_id text, created_at timestamptz,
               event_name text, total_seats integer, available_seats integer)
language plpgsql
stable
security definer
set search_path = booking, pg_temp
as $fn$
begin
    perform tally.check_id(p_booking_id, 'booking_id');
    return query
        select b.id, b.event_id, b.user_id, b.created_at,
               e.name, e.total_seats, e.total_seats - e.booked_seats
          from booking.bookings b
          join booking.events e on e.id = b.event_id
         where b.id = p_booking_id;
    if not found then
        perform tally.raise_not_found('booking', p_booking_id);
    end if;
end
$fn$;

grant execute on function booking.get_booking(bigint) to tally_app;
