-- get_event(id): the event with its available seats.
-- TLNF1 EVENT_NOT_FOUND, TLIA1 EVENT_ID_INVALID.
create function booking.get_event(p_event_id bigint)
returns table (id bigint, name text, total_seats integer, available_seats integer)
language plpgsql
stable
security definer
set search_path = booking, pg_temp
as $fn$
begin
    perform tally.check_id(p_event_id, 'event_id');
    return query
        select e.id, e.name, e.total_seats, e.total_seats - e.booked_seats
          from booking.events e
         where e.id = p_event_id;
    if not found then
        perform tally.raise_not_found('event', p_event_id);
    end if;
end
$fn$;

grant execute on function booking.get_event(bigint) to tally_app;
