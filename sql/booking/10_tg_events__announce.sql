-- tg_events__announce: an event's cached availability (GetEvent) changes with its row,
-- which the seat-count trigger updates on every booking: announce the changed and
-- deleted events (tally._announce_cache), once per statement.
create function booking.tg_events__announce()
returns trigger
language plpgsql
set search_path = booking, pg_temp
as $fn$
begin
    perform tally._announce_cache('booking.event', array(select id from changed_rows));
    return null;
end
$fn$;

create trigger events_announce_update
    after update on booking.events
    referencing new table as changed_rows
    for each statement execute function booking.tg_events__announce();

create trigger events_announce_delete
    after delete on booking.events
    referencing old table as changed_rows
    for each statement execute function booking.tg_events__announce();
