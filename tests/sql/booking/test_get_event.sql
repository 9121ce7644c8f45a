-- booking.get_event: found, not found, bad id; availability follows bookings.
begin;
set local role tally_app;
select plan(5);

create temp table ev on commit drop as select * from booking.create_event('Play', 2);

select results_eq($$select name, total_seats, available_seats from booking.get_event((select id from ev))$$,
    $$values ('Play'::text, 2, 2)$$, 'the event as created');
do $$ begin perform booking.reserve_seat((select id from ev), 'alice'); end $$;
select results_eq($$select available_seats from booking.get_event((select id from ev))$$,
    $$values (1)$$, 'a reservation takes a seat');
select throws_ok($$select booking.get_event(9223372036854775807)$$, 'TLNF1',
    'event 9223372036854775807 not found', 'unknown event');
select throws_ok($$select booking.get_event(0)$$, 'TLIA1', 'event_id must be a positive id',
    'zero id');
select throws_ok($$select booking.get_event(null)$$, 'TLIA1', 'event_id must be a positive id',
    'null id');

select * from finish();
rollback;
