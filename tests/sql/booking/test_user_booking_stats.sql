-- booking.user_booking_stats: seats held by a user across events.
begin;
set local role tally_app;
select plan(4);

do $$
begin
    perform booking.reserve_seat((booking.create_event('A', 5)).id, 'stats-user');
    perform booking.reserve_seat((booking.create_event('B', 5)).id, 'stats-user');
end $$;

select results_eq($$select * from booking.user_booking_stats('stats-user')$$,
    $$values ('stats-user'::text, 2::bigint)$$, 'two events, two seats');
select results_eq($$select bookings_count from booking.user_booking_stats('nobody-' || txid_current())$$,
    $$values (0::bigint)$$, 'a user with no bookings has 0');
select throws_ok($$select booking.user_booking_stats('')$$, 'TLIA1',
    'user_id must be 1 to 255 characters', 'empty user id');
select throws_ok($$select booking.user_booking_stats(repeat('u', 256))$$, 'TLIA1',
    'user_id must be 1 to 255 characters', 'too long');

select * from finish();
rollback;
