-- events.booked_seats follows booking.bookings with one UPDATE per statement (not per
-- row), whoever writes the bookings. The CHECK events_booked_seats_within_total turns an
-- overbooking into an error right here, so no writer can exceed total_seats.
create function booking.tg_bookings__count_seats()
returns trigger
language plpgsql
as $fn$
begin
    if tg_op = 'INSERT' then
        update booking.events e
           set booked_seats = e.booked_seats + d.n
          from (select event_id, count(*)::integer as n from new_rows group by event_id) d
         where e.id = d.event_id;
    elsif tg_op = 'DELETE' then
        update booking.events e
           set booked_seats = e.booked_seats - d.n
          from (select event_id, count(*)::integer as n from old_rows group by event_id) d
         where e.id = d.event_id;
    else
        update booking.events e
           set booked_seats = e.booked_seats + d.n
          from (select event_id, sum(n)::integer as n
                  from (select event_id, 1 as n from new_rows
                        union all
                        select event_id, -1 from old_rows) c
                 group by event_id) d
         where e.id = d.event_id
           and d.n <> 0;
    end if;
    return null;
end
$fn$;

create trigger bookings_count_seats_insert
    after insert on booking.bookings
    referencing new table as new_rows
    for each statement execute function booking.tg_bookings__count_seats();

create trigger bookings_count_seats_delete
    after delete on booking.bookings
    referencing old table as old_rows
    for each statement execute function booking.tg_bookings__count_seats();

create trigger bookings_count_seats_update
    after update on booking.bookings
    referencing new table as new_rows old table as old_rows
    for each statement execute function booking.tg_bookings__count_seats();
