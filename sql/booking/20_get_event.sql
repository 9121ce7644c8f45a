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
    if p_event_id is null or p_event_id < 1 then
        perform tally.raise_error('TLIA1', 'EVENT_ID_INVALID', 'event_id must be a positive id', 'event_id');
    end if;
    return query
        select e.id, e.name, e.total_seats, e.total_seats - e.booked_seats
          from booking.events e
         where e.id = p_event_id;
    if not found then
        perform tally.raise_error('TLNF1', 'EVENT_NOT_FOUND',
                                  format('event %s not found', p_event_id), 'event_id');
    end if;
end
$fn$;

grant execute on function booking.get_event(bigint) to tally_app;
