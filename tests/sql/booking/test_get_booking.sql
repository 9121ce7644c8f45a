-- booking.get_booking: the booking with its event.
begin;
set local role tally_app;
select plan(3);

create temp table ev on commit drop as select * from booking.create_event('Opera', 3);
create temp table b on commit drop as select * from booking.reserve_seat((select id from ev), 'alice');

select results_eq(
    $$select id, event_id, user_id, event_name, total_seats, available_seats
        from booking.get_booking((select id from b))$$,
    $$select b.id, ev.id, 'alice'::text, 'Opera'::text, 3, 2 from b, ev$$,
    'booking and event');
select throws_ok($$select booking.get_booking(9223372036854775807)$$, 'TLNF1',
    'booking 9223372036854775807 not found', 'unknown booking');
select throws_ok($$select booking.get_booking(-1)$$, 'TLIA1',
    'booking_id must be a positive id', 'negative id');

select * from finish();
rollback;
