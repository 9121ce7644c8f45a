-- booking.cancel_booking: frees the seat; unknown or bad ids are errors.
begin;
set local role tally_app;
select plan(6);

create temp table ev on commit drop as select * from booking.create_event('One seat', 1);
create temp table b on commit drop as select * from booking.reserve_seat((select id from ev), 'alice');

select is(booking.cancel_booking((select id from b)), (select id from ev), 'returns the event id');
select is((select available_seats from booking.get_event((select id from ev))), 1, 'the seat is free again');
select lives_ok($$select booking.reserve_seat((select id from ev), 'bob')$$, 'someone else can take it');
select throws_ok($$select booking.cancel_booking((select id from b))$$, 'TLNF1',
    format('booking %s not found', (select id from b)), 'cancelling twice');
select throws_ok($$select booking.cancel_booking(0)$$, 'TLIA1', 'booking_id must be a positive id', 'id 0');
select throws_ok($$delete from booking.bookings$$, '42501', null,
    'the application role cannot delete bookings directly');

select * from finish();
rollback;
