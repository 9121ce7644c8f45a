-- The rows of booking that servers cache announce their changes at commit, whoever commits
-- (tally.tg_cached_rows__announce).

-- booking.events: GetEvent's availability (the seat-count trigger updates an event on every booking).
create trigger events_announce_update
    after update on booking.events
    referencing new table as changed_rows
    for each statement execute function tally.tg_cached_rows__announce('booking.event');
create trigger events_announce_delete
    after delete on booking.events
    referencing old table as changed_rows
    for each statement execute function tally.tg_cached_rows__announce('booking.event');
